"""The broker's tables share one MetaData."""

from sqlalchemy.orm import DeclarativeBase

from services.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
