"""J-LIS's own tables share one MetaData (its database holds nothing of other services)."""

from sqlalchemy.orm import DeclarativeBase

from services.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
