"""The intermediate server's tables share one MetaData. By rule 1 none of them may hold an
individual number, a name, an address, a sex or a birth date (tests scan for them)."""

from sqlalchemy.orm import DeclarativeBase

from services.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
