"""SKI 情報照会: a staff member asks another institution, through the broker, for items of a
person the city knows by address number, or of many persons at once (a batch). The role is
checked here before anything leaves the city; each answer arrives sealed to this server and is
opened only here. Every attempt is logged, one access-log entry per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.service import AccessFacts, log_staff_access, log_staff_accesses
from municipality.intermediate.provision_records.service import (
    answered_request,
    record_city_provision,
    record_city_provisions,
    refused_request,
    requested_result,
)
from municipality.intermediate.queries.schemas import (
    ProvidedItem,
    StaffBatchQueryAnswer,
    StaffBatchQueryIn,
    StaffPersonResult,
    StaffQueryAnswer,
    StaffQueryIn,
)
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.symbols.service import symbol_for_address
from services.app import Runtime
from services.problems import DomainError, Forbidden, NotFound, UpstreamError
from services.rbac import RoleGrants
from services.sealing import open_sealed_json


@dataclass(frozen=True)
class Ask:
    """What a query asks, the same for every person of a batch."""

    procedure_code: str
    provider_code: str
    item_codes: list[str]  # sorted, each once

    def facts(self, staff: StaffMember, address_number: str) -> AccessFacts:
        return AccessFacts(
            staff_id=staff.staff_id,
            department=staff.department,
            address_number=address_number,
            procedure_code=self.procedure_code,
            item_codes=self.item_codes,
            provider_code=self.provider_code,
        )

    def to_broker(self) -> dict[str, Any]:
        return {
            "procedure_code": self.procedure_code,
            "provider_code": self.provider_code,
            "item_codes": self.item_codes,
        }


async def query_other_institution(
    session: AsyncSession, runtime: Runtime, grants: RoleGrants, staff: StaffMember, query: StaffQueryIn
) -> StaffQueryAnswer:
    ask = Ask(query.procedure_code, query.provider_code, sorted(set(query.item_codes)))
    facts = ask.facts(staff, query.address_number)
    try:
        check_role(grants, staff, ask)
        symbol = await symbol_for_address(session, query.address_number)
        if symbol is None:
            raise unknown_address_number()
        answer = await runtime.client.call(
            "POST",
            f"{runtime.settings.broker_url}/queries",
            {"requester_symbol": symbol, **ask.to_broker()},
            upstream="broker",
        )
        items, missing_items = open_answer(runtime, answer["query_id"], answer["ciphertext"])
    except DomainError as error:
        await log_staff_access(runtime.database, facts, f"refused:{error.code}")
        if isinstance(error, UpstreamError):  # the query left the city (TKM): the broker's word on it
            await record_city_provision(runtime, refused_request(facts, error))
        raise
    await log_staff_access(runtime.database, facts, "read")
    await record_city_provision(
        runtime, answered_request(facts, answer["query_id"], answer["whitelist_row"], items, missing_items)
    )
    return StaffQueryAnswer(
        query_id=answer["query_id"],
        provider_code=answer["provider_code"],
        whitelist_row=answer["whitelist_row"],
        items=items,
        missing_items=missing_items,
    )


async def batch_query_other_institution(
    session: AsyncSession, runtime: Runtime, grants: RoleGrants, staff: StaffMember, query: StaffBatchQueryIn
) -> StaffBatchQueryAnswer:
    """A result per address number, in order. What stops the whole batch (the role, the broker's
    refusal of the query, the provider down) is logged for every person it concerns and raised."""
    ask = Ask(query.procedure_code, query.provider_code, sorted(set(query.item_codes)))
    everyone = [ask.facts(staff, address_number) for address_number in query.address_numbers]
    try:
        check_role(grants, staff, ask)
    except DomainError as error:
        await _log_refused(runtime, everyone, error)
        raise
    results: dict[str, StaffPersonResult] = {}
    logged: list[tuple[AccessFacts, str]] = []  # (facts, outcome): appended to the log in one transaction
    sent: list[tuple[AccessFacts, str]] = []
    for facts in everyone:
        symbol = await symbol_for_address(session, facts.address_number)
        if symbol is None:
            results[facts.address_number] = _refused(logged, facts, None, unknown_address_number())
        else:
            sent.append((facts, symbol))
    whitelist_row: str | None = None
    if sent:
        try:
            answer = await runtime.client.call(
                "POST",
                f"{runtime.settings.broker_url}/queries/batch",
                {"requester_symbols": [symbol for _, symbol in sent], **ask.to_broker()},
                upstream="broker",
            )
            person_results = _results_in_order(answer, [symbol for _, symbol in sent])
        except DomainError as error:
            await _log_refused(runtime, [facts for facts, _ in sent], error, logged)
            await record_city_provisions(runtime, [refused_request(facts, error) for facts, _ in sent])
            raise
        whitelist_row = answer["whitelist_row"]
        for (facts, _), result in zip(sent, person_results, strict=True):
            results[facts.address_number] = await _person_result(runtime, logged, facts, result)
        await record_city_provisions(
            runtime, [requested_result(facts, results[facts.address_number], whitelist_row) for facts, _ in sent]
        )
    await log_staff_accesses(runtime.database, logged)
    return StaffBatchQueryAnswer(
        provider_code=ask.provider_code,
        whitelist_row=whitelist_row,
        results=[results[address_number] for address_number in query.address_numbers],
    )


def check_role(grants: RoleGrants, staff: StaffMember, ask: Ask) -> None:
    """Staff see only the items their department's role grants under the procedure (rule 6)."""
    ungranted = grants.ungranted_items(staff.department, ask.procedure_code, ask.item_codes)
    if ungranted:
        raise Forbidden(
            "item_not_permitted_for_role",
            f"{staff.department} may not see {', '.join(ungranted)} under {ask.procedure_code}.",
        )


def unknown_address_number() -> NotFound:
    return NotFound("unknown_address_number", "No symbol is held for this address number.")


def open_answer(runtime: Runtime, query_id: str, ciphertext: str) -> tuple[list[ProvidedItem], list[str]]:
    """Open an answer sealed to this server, checking it answers this query (not another person's)."""
    payload = open_sealed_json(ciphertext, runtime.keys)
    if payload.get("query_id") != query_id:
        raise UpstreamError("answer_mismatch", "The sealed answer belongs to another query.", status=502)
    return [ProvidedItem(**item) for item in payload["items"]], list(payload["missing_items"])


async def _person_result(
    runtime: Runtime, logged: list[tuple[AccessFacts, str]], facts: AccessFacts, result: dict[str, Any]
) -> StaffPersonResult:
    query_id = str(result["query_id"])
    if result["outcome"] != "provided":
        problem = result.get("problem") or {}
        error = UpstreamError(
            str(problem.get("code") or "upstream_error"),
            str(problem.get("detail") or "The broker gave no reason."),
            status=int(problem.get("status") or 502),
            upstream="broker",
        )
        return _refused(logged, facts, query_id, error, outcome=result["outcome"])
    try:
        items, missing_items = open_answer(runtime, query_id, str(result["ciphertext"]))
    except DomainError as error:
        return _refused(logged, facts, query_id, error, outcome="failed")
    logged.append((facts, "read"))
    return StaffPersonResult(
        address_number=facts.address_number,
        query_id=query_id,
        outcome="provided",
        items=items,
        missing_items=missing_items,
    )


def _results_in_order(answer: Any, symbols: list[str]) -> list[dict[str, Any]]:
    results = answer.get("results") if isinstance(answer, dict) else None
    if (
        not isinstance(results, list)
        or not all(isinstance(r, dict) for r in results)
        or [r.get("requester_symbol") for r in results] != symbols
    ):
        raise UpstreamError("bad_broker_answer", "The broker did not answer each person once, in order.", status=502)
    return results


def _refused(
    logged: list[tuple[AccessFacts, str]],
    facts: AccessFacts,
    query_id: str | None,
    error: DomainError,
    *,
    outcome: str = "refused",
) -> StaffPersonResult:
    logged.append((facts, f"refused:{error.code}"))
    return StaffPersonResult(
        address_number=facts.address_number,
        query_id=query_id,
        outcome="failed" if outcome == "failed" else "refused",
        problem=error.to_problem("/queries/batch"),
    )


async def _log_refused(
    runtime: Runtime,
    everyone: Sequence[AccessFacts],
    error: DomainError,
    logged: Sequence[tuple[AccessFacts, str]] = (),
) -> None:
    """Log everyone refused for `error`, after what the batch `logged` before, in one transaction."""
    refused = [(facts, f"refused:{error.code}") for facts in everyone]
    await log_staff_accesses(runtime.database, [*logged, *refused])
