"""TKY 情報提供: answer a query the broker forwards, from the copies, sealed to the requester.

The broker has already checked the whitelist; this server trusts only a broker-signed request,
finds each person by its own symbol, and seals each person's answer on its own to the
requester's registered key. A single query is a batch of one; in a batch, a person this server
does not hold gets a problem of their own while the others are answered.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.copies.service import latest_copies
from municipality.intermediate.provisions.schemas import (
    BatchProvisionRequest,
    BatchSealedAnswer,
    ForwardedPerson,
    PersonAnswer,
    ProvisionRequest,
    SealedAnswer,
)
from municipality.intermediate.symbols.service import address_for_symbol
from services.problems import DomainError, NotFound
from services.sealing import seal_json
from services.signing import KeyDirectory, RegisteredKey


async def answer_provision(session: AsyncSession, directory: KeyDirectory, request: ProvisionRequest) -> SealedAnswer:
    batch = BatchProvisionRequest(
        requester_code=request.requester_code,
        requester_key_id=request.requester_key_id,
        procedure_code=request.procedure_code,
        item_codes=request.item_codes,
        persons=[ForwardedPerson(query_id=request.query_id, provider_symbol=request.provider_symbol)],
    )
    requester = await _requester_key(directory, batch)
    return SealedAnswer(ciphertext=await _sealed_answer(session, requester, batch, batch.persons[0]))


async def answer_provisions(
    session: AsyncSession, directory: KeyDirectory, request: BatchProvisionRequest
) -> BatchSealedAnswer:
    requester = await _requester_key(directory, request)
    answers: list[PersonAnswer] = []
    for person in request.persons:
        try:
            ciphertext = await _sealed_answer(session, requester, request, person)
        except DomainError as refusal:
            answers.append(PersonAnswer(query_id=person.query_id, problem=refusal.to_problem("/provisions/batch")))
        else:
            answers.append(PersonAnswer(query_id=person.query_id, ciphertext=ciphertext))
    return BatchSealedAnswer(answers=answers)


async def _requester_key(directory: KeyDirectory, request: BatchProvisionRequest) -> RegisteredKey:
    requester = await directory.resolve(request.requester_key_id)
    if requester is None or requester.institution_code != request.requester_code:
        raise NotFound("unknown_requester", f"{request.requester_code} has no such registered intermediate server key.")
    return requester


async def _sealed_answer(
    session: AsyncSession, requester: RegisteredKey, request: BatchProvisionRequest, person: ForwardedPerson
) -> str:
    address_number = await address_for_symbol(session, person.provider_symbol)
    if address_number is None:
        raise NotFound("unknown_symbol", "This server holds no person with that symbol.")
    copies = await latest_copies(session, address_number, request.item_codes)
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
