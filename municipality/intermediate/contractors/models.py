"""SCM: contractor accounts (委託先, a company, not a resident), their short sessions, and the
contract grants that say whom and what they may read, and when.

Contractor accounts live apart from staff accounts, so a contractor's token is never a staff
token: no staff endpoint can accept it.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from municipality.intermediate.sign_in import PasswordAccount, SessionToken
from services.db import UTCDateTime


class Contractor(PasswordAccount, Base):
    """A contractor account: its password and lockout columns are sign_in.py's, as staff's."""

    __tablename__ = "contractors"
    contractor_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))  # "operator" or the administrator's staff id


class ContractorSession(SessionToken, Base):
    """A signed-in contractor's bearer token (sign_in.py's `SessionToken`)."""

    __tablename__ = "contractor_sessions"
    contractor_id: Mapped[str] = mapped_column(ForeignKey("contractors.contractor_id"), index=True)


class ContractGrant(Base):
    """What a department lets a contractor read: these items of these persons, from `valid_from`
    to `valid_to` (inclusive, dates in Japan), for `purpose`; made on a consumed approval."""

    __tablename__ = "contract_grants"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contractor_id: Mapped[str] = mapped_column(ForeignKey("contractors.contractor_id"), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    address_numbers: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(Text)
    approval_id: Mapped[int]
    granted_by: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
