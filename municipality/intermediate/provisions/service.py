"""TKY 情報提供: answer a query the broker forwards, from the copies, sealed to the requester.

The broker has already checked the whitelist; this server checks again against its own item
catalogue that every item may be provided for the procedure, so that neither a broker fault nor
a compromised broker can make the city answer outside the law. That check, like the requester's
key, concerns the whole request (one procedure and item list for every person), so it refuses the
whole request. Each person is then found by this city's symbol, and each answer is sealed on its
own to the requester's registered key; in a batch a person this server does not hold gets a
problem of their own while the others are answered. A single query is a batch of one.

Every answer and refusal is in the city's own provision record (TKM) before it leaves.

JTK (`self_information/`) answers My Portal the same way, narrowed by its `Answering`: only My
Portal, only under 自己情報提供.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.copies.catalogue import ItemCatalogue
from municipality.intermediate.copies.models import Copy
from municipality.intermediate.copies.service import latest_copies
from municipality.intermediate.provision_records.service import (
    CityProvision,
    answered_items,
    record_city_provisions,
    refusal_outcome,
)
from municipality.intermediate.provisions.schemas import (
    BatchProvisionRequest,
    BatchSealedAnswer,
    ForwardedPerson,
    PersonAnswer,
    ProvisionRequest,
    SealedAnswer,
)
from municipality.intermediate.symbols.service import address_for_symbol
from services.app import Runtime
from services.problems import DomainError, Forbidden, NotFound
from services.sealing import seal_json
from services.signing import RegisteredKey


@dataclass(frozen=True)
class Answering:
    """Whom a function answers, and under what: TKY any registered institution under any procedure
    its catalogue provides items for; JTK only My Portal (kind `portal`), only under 自己情報提供."""

    requester_kind: str | None = None
    procedure: str | None = None


TKY = Answering()


async def answer_provision(
    session: AsyncSession,
    runtime: Runtime,
    catalogue: ItemCatalogue,
    request: ProvisionRequest,
    answering: Answering = TKY,
) -> SealedAnswer:
    # A batch of one, built from a request validated at the boundary (JTK's names a portal key).
    batch = BatchProvisionRequest.model_construct(
        requester_code=request.requester_code,
        requester_key_id=request.requester_key_id,
        procedure_code=request.procedure_code,
        item_codes=request.item_codes,
        whitelist_row=request.whitelist_row,
        whitelist_version=request.whitelist_version,
        persons=[ForwardedPerson(query_id=request.query_id, provider_symbol=request.provider_symbol)],
    )
    [answer] = await _answer_each(session, runtime, catalogue, batch, answering)
    if isinstance(answer, DomainError):
        raise answer
    return SealedAnswer(ciphertext=answer)


async def answer_provisions(
    session: AsyncSession, runtime: Runtime, catalogue: ItemCatalogue, request: BatchProvisionRequest
) -> BatchSealedAnswer:
    answers = await _answer_each(session, runtime, catalogue, request, TKY)
    return BatchSealedAnswer(
        answers=[
            PersonAnswer(query_id=person.query_id, problem=answer.to_problem("/provisions/batch"))
            if isinstance(answer, DomainError)
            else PersonAnswer(query_id=person.query_id, ciphertext=answer)
            for person, answer in zip(request.persons, answers, strict=True)
        ]
    )


def check_items_provided(catalogue: ItemCatalogue, request: BatchProvisionRequest) -> None:
    """Every item must be one this city registers, and registers for this procedure (items.yaml)."""
    outside = sorted(
        {
            code
            for code in request.item_codes
            if code not in catalogue or request.procedure_code not in catalogue.items[code].procedures
        }
    )
    if outside:
        raise Forbidden(
            "item_not_provided_for_procedure",
            f"This city provides no {', '.join(outside)} under {request.procedure_code}.",
            item_codes=outside,
        )


def _check_procedure(answering: Answering, request: BatchProvisionRequest) -> None:
    if answering.procedure is not None and request.procedure_code != answering.procedure:
        raise Forbidden(
            "procedure_not_answered_here",
            f"This function answers only {answering.procedure}, not {request.procedure_code}.",
        )


async def _answer_each(
    session: AsyncSession,
    runtime: Runtime,
    catalogue: ItemCatalogue,
    request: BatchProvisionRequest,
    answering: Answering,
) -> list[str | DomainError]:
    """Each person's sealed answer or refusal, in order, recorded (one commit) before it is returned.
    A refusal of the whole request is recorded for every person and raised."""
    try:
        _check_procedure(answering, request)
        check_items_provided(catalogue, request)
        requester = await _requester_key(runtime, request, answering)
    except DomainError as whole:
        await record_city_provisions(
            runtime,
            [
                _record(request, person, await address_for_symbol(session, person.provider_symbol), refusal=whole)
                for person in request.persons
            ],
        )
        raise
    answers: list[str | DomainError] = []
    records: list[CityProvision] = []
    for person in request.persons:
        address_number = await address_for_symbol(session, person.provider_symbol)
        if address_number is None:
            refusal = NotFound("unknown_symbol", "This server holds no person with that symbol.")
            answers.append(refusal)
            records.append(_record(request, person, None, refusal=refusal))
            continue
        copies = await latest_copies(session, address_number, request.item_codes)
        answers.append(_sealed_answer(requester, request, person, copies))
        records.append(_record(request, person, address_number, copies=copies))
    await record_city_provisions(runtime, records)
    return answers


async def _requester_key(runtime: Runtime, request: BatchProvisionRequest, answering: Answering) -> RegisteredKey:
    requester = await runtime.directory.resolve(request.requester_key_id)
    if (
        requester is None
        or requester.institution_code != request.requester_code
        or answering.requester_kind not in (None, requester.institution_kind)
    ):
        raise NotFound("unknown_requester", f"{request.requester_code} has no such registered key.")
    return requester


def _sealed_answer(
    requester: RegisteredKey, request: BatchProvisionRequest, person: ForwardedPerson, copies: list[Copy]
) -> str:
    found = {copy.item_code for copy in copies}
    payload = {
        "query_id": person.query_id,
        "items": [
            {"item_code": c.item_code, "period": c.period, "value": c.value, "as_of": c.as_of.isoformat()}
            for c in copies
        ],
        "missing_items": sorted(set(request.item_codes) - found),
    }
    return seal_json(payload, requester.encryption_public_key)


def _record(
    request: BatchProvisionRequest,
    person: ForwardedPerson,
    address_number: str | None,
    *,
    copies: list[Copy] | None = None,
    refusal: DomainError | None = None,
) -> CityProvision:
    """What the city keeps of one person's answer: which items, how old, never their values."""
    provided_items, oldest_as_of = answered_items(copies or [])
    return CityProvision(
        direction="provided",
        query_id=person.query_id,
        counterpart_code=request.requester_code,
        procedure_code=request.procedure_code,
        item_codes=sorted(set(request.item_codes)),
        address_number=address_number,
        outcome="provided" if refusal is None else refusal_outcome(refusal),
        outcome_code="provided" if refusal is None else refusal.code,
        whitelist_row=request.whitelist_row,
        whitelist_version=request.whitelist_version,
        provided_items=provided_items,
        missing_items=[] if refusal is not None else sorted(set(request.item_codes) - set(provided_items)),
        oldest_as_of=oldest_as_of,
    )
