"""TKY 情報提供: answer a query the broker forwards, from the copies, sealed to the requester.

The broker has already checked the whitelist; this server trusts only a broker-signed request,
finds the person by its own symbol, and seals the answer to the requester's registered key.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.copies.service import latest_copies
from municipality.intermediate.provisions.schemas import ProvisionRequest, SealedAnswer
from municipality.intermediate.symbols.service import address_for_symbol
from services.problems import NotFound
from services.sealing import seal_json
from services.signing import KeyDirectory


async def answer_provision(session: AsyncSession, directory: KeyDirectory, request: ProvisionRequest) -> SealedAnswer:
    address_number = await address_for_symbol(session, request.provider_symbol)
    if address_number is None:
        raise NotFound("unknown_symbol", "This server holds no person with that symbol.")
    requester = await directory.resolve(request.requester_key_id)
    if requester is None or requester.institution_code != request.requester_code:
        raise NotFound("unknown_requester", f"{request.requester_code} has no such registered intermediate server key.")
    copies = await latest_copies(session, address_number, request.item_codes)
    found = {copy.item_code for copy in copies}
    payload = {
        "query_id": request.query_id,
        "items": [
            {"item_code": c.item_code, "period": c.period, "value": c.value, "as_of": c.as_of.isoformat()}
            for c in copies
        ],
        "missing_items": sorted(set(request.item_codes) - found),
    }
    return SealedAnswer(ciphertext=seal_json(payload, requester.encryption_public_key))
