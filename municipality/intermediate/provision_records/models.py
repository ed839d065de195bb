"""TKM 情報提供等記録: the city's own record of every query it answered or refused as provider
and every query it sent as requester. Item codes only, never an item's value (rule 3 holds for
records too); the person is named by the city's address number, as everywhere in this server."""

from datetime import date, datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class CityProvisionRecord(Base):
    __tablename__ = "city_provision_records"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(16), index=True)  # provided | requested
    # The broker's query id; None when the broker refused a query as a whole without naming one.
    query_id: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # when answered, refused or concluded
    requester_code: Mapped[str] = mapped_column(String(32))
    provider_code: Mapped[str] = mapped_column(String(32))
    procedure_code: Mapped[str] = mapped_column(String(64))
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    whitelist_row: Mapped[str | None] = mapped_column(String(16))
    whitelist_version: Mapped[str | None] = mapped_column(String(32))
    # None when the forwarded symbol names nobody this city holds
    address_number: Mapped[str | None] = mapped_column(String(15), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # provided | refused | failed
    outcome_code: Mapped[str] = mapped_column(String(64))  # "provided" or the problem's code
    provided_items: Mapped[list[str]] = mapped_column(JSON)  # item codes that were answered
    missing_items: Mapped[list[str]] = mapped_column(JSON)  # asked and allowed, but no copy held
    oldest_as_of: Mapped[date | None]  # the source date of the oldest copy in the answer
    staff_id: Mapped[str | None] = mapped_column(String(32))  # who asked (requested only)
