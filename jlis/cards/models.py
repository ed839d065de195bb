"""Cards J-LIS has issued, their certificates, and the challenges of card login."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from jlis.models import Base
from services.db import UTCDateTime


class Card(Base):
    """One individual number card; `active` until revoked (lost, stolen, returned, reissued…).
    A person holds at most one active card."""

    __tablename__ = "cards"
    __table_args__ = (
        Index(
            "uq_cards_active_person",
            "person_serial",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    card_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_serial: Mapped[str] = mapped_column(ForeignKey("persons.serial"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")


class CardCertificate(Base):
    """A certificate on a card: `auth` (利用者証明用) or `sign` (署名用). Serials are decimal text
    because X.509 serials run to 159 bits."""

    __tablename__ = "card_certificates"
    serial_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.card_id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    pem: Mapped[str] = mapped_column(Text)


class CardChallenge(Base):
    """A random challenge for card login: signed once by the card's authentication key."""

    __tablename__ = "card_challenges"
    challenge: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
