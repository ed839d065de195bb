"""TKM 情報提供等記録管理: writing and reading the city's own provision records.

The broker keeps the network's record; the city keeps its own, so it can answer for what it
provided and asked without relying on the broker. Records are written in a transaction of their
own (a refusal is recorded although the request that caused it fails), all of a batch's persons
in one commit, and before the answer leaves: no answer goes out unrecorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.service import AccessFacts
from municipality.intermediate.provision_records.models import CityProvisionRecord
from municipality.intermediate.queries.schemas import StaffPersonResult
from services.app import Runtime
from services.db import utc_now
from services.problems import DomainError

Direction = Literal["provided", "requested"]
Outcome = Literal["provided", "refused", "failed"]


class DatedItem(Protocol):
    """An item as answered: its code and the source date of its copy (never its value)."""

    @property
    def item_code(self) -> str: ...
    @property
    def as_of(self) -> date: ...


@dataclass(frozen=True)
class CityProvision:
    """One query as this city saw it, as provider (`provided`) or requester (`requested`)."""

    direction: Direction
    query_id: str | None
    counterpart_code: str  # the requester when provided, the provider when requested
    procedure_code: str
    item_codes: Sequence[str]
    address_number: str | None
    outcome: Outcome
    outcome_code: str
    whitelist_row: str | None = None
    whitelist_version: str | None = None
    provided_items: Sequence[str] = field(default_factory=list)
    missing_items: Sequence[str] = field(default_factory=list)
    oldest_as_of: date | None = None
    staff_id: str | None = None


def answered_items(items: Sequence[DatedItem]) -> tuple[list[str], date | None]:
    """The codes of the answered items and the oldest copy's date: what a record keeps of an answer."""
    return sorted({item.item_code for item in items}), min((item.as_of for item in items), default=None)


def refusal_outcome(error: DomainError) -> Outcome:
    """A 4xx is someone's refusal; anything else (unreachable, slow, a bad answer) a failure."""
    return "refused" if 400 <= error.status < 500 else "failed"


def refused_request(facts: AccessFacts, error: DomainError, query_id: str | None = None) -> CityProvision:
    """A query this city sent that the broker or the provider refused or failed as a whole."""
    return CityProvision(
        direction="requested",
        query_id=query_id,
        counterpart_code=facts.provider_code,
        procedure_code=facts.procedure_code,
        item_codes=list(facts.item_codes),
        address_number=facts.address_number,
        outcome=refusal_outcome(error),
        outcome_code=error.code,
        staff_id=facts.staff_id,
    )


def answered_request(
    facts: AccessFacts,
    query_id: str,
    whitelist_row: str | None,
    items: Sequence[DatedItem],
    missing_items: Sequence[str],
) -> CityProvision:
    """A query this city sent that came back answered (and opened)."""
    provided_items, oldest_as_of = answered_items(items)
    return CityProvision(
        direction="requested",
        query_id=query_id,
        counterpart_code=facts.provider_code,
        procedure_code=facts.procedure_code,
        item_codes=list(facts.item_codes),
        address_number=facts.address_number,
        outcome="provided",
        outcome_code="provided",
        whitelist_row=whitelist_row,
        provided_items=provided_items,
        missing_items=sorted(missing_items),
        oldest_as_of=oldest_as_of,
        staff_id=facts.staff_id,
    )


def requested_result(facts: AccessFacts, result: StaffPersonResult, whitelist_row: str | None) -> CityProvision:
    """One person's part of a batch this city sent, as the staff member was answered."""
    if result.outcome == "provided" and result.query_id is not None:
        return answered_request(facts, result.query_id, whitelist_row, result.items or [], result.missing_items or [])
    problem = result.problem or {}
    return CityProvision(
        direction="requested",
        query_id=result.query_id,
        counterpart_code=facts.provider_code,
        procedure_code=facts.procedure_code,
        item_codes=list(facts.item_codes),
        address_number=facts.address_number,
        outcome="failed" if result.outcome == "failed" else "refused",
        outcome_code=str(problem.get("code") or "upstream_error"),
        whitelist_row=whitelist_row,
        staff_id=facts.staff_id,
    )


async def record_city_provision(runtime: Runtime, provision: CityProvision) -> None:
    await record_city_provisions(runtime, [provision])


async def record_city_provisions(runtime: Runtime, provisions: Sequence[CityProvision]) -> None:
    """Write every record in one transaction of its own (a batch of 1,000 costs one commit)."""
    if not provisions:
        return
    own_code = runtime.identity.institution_code
    at = utc_now()
    async with runtime.database.sessions() as session:
        for p in provisions:
            provided = p.direction == "provided"
            requester, provider = (p.counterpart_code, own_code) if provided else (own_code, p.counterpart_code)
            session.add(
                CityProvisionRecord(
                    direction=p.direction,
                    query_id=p.query_id,
                    at=at,
                    requester_code=requester,
                    provider_code=provider,
                    procedure_code=p.procedure_code,
                    item_codes=list(p.item_codes),
                    whitelist_row=p.whitelist_row,
                    whitelist_version=p.whitelist_version,
                    address_number=p.address_number,
                    outcome=p.outcome,
                    outcome_code=p.outcome_code,
                    provided_items=list(p.provided_items),
                    missing_items=list(p.missing_items),
                    oldest_as_of=p.oldest_as_of,
                    staff_id=p.staff_id,
                )
            )
        await session.commit()


async def recent_city_provisions(
    session: AsyncSession, direction: Direction | None, limit: int
) -> Sequence[CityProvisionRecord]:
    """The newest `limit` records, of one direction or both, newest first."""
    statement = select(CityProvisionRecord).order_by(CityProvisionRecord.seq.desc()).limit(limit)
    if direction is not None:
        statement = statement.where(CityProvisionRecord.direction == direction)
    return (await session.scalars(statement)).all()


async def city_provisions_for_person(session: AsyncSession, address_number: str) -> Sequence[CityProvisionRecord]:
    """Every record about one person, both directions, newest first."""
    statement = (
        select(CityProvisionRecord)
        .where(CityProvisionRecord.address_number == address_number)
        .order_by(CityProvisionRecord.seq.desc())
    )
    return (await session.scalars(statement)).all()
