"""Registered institutions and their components (each with its own keys and address)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class Institution(Base):
    __tablename__ = "institutions"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Component(Base):
    """One system of an institution (e.g. a city's intermediate server) that signs requests."""

    __tablename__ = "institution_components"
    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    component: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str] = mapped_column(String(300))
    signing_public_key: Mapped[str] = mapped_column(Text)
    encryption_public_key: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComponentKey(Base):
    """A later key generation of a component, announced ahead of the day it takes over.

    The component's first key stays in `Component` (key id `{code}.{component}`, in force since
    enrolment); generation n ≥ 2 has key id `{code}.{component}.v{n}`. A key verifies from its
    `activates_at` until a newer generation has been active for the broker's key overlap.
    """

    __tablename__ = "component_keys"
    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    component_key_id: Mapped[str] = mapped_column(ForeignKey("institution_components.key_id"), index=True)
    generation: Mapped[int] = mapped_column(Integer)
    signing_public_key: Mapped[str] = mapped_column(Text)
    encryption_public_key: Mapped[str] = mapped_column(Text)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime)
