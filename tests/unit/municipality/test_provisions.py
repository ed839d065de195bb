"""TKY 情報提供: the provider seals each answer to the key the requester signed its query with,
and to no other institution's key."""

from __future__ import annotations

import uuid
from typing import Any

from services.sealing import open_sealed_json
from tests.unit.linkage_fixture import BROKER, CHILD_ALLOWANCE, HIGASHIMURAYAMA, INCOME_ITEMS, KODAIRA, Linkage


async def _forwarded(linkage: Linkage, requester_key_id: str) -> tuple[int, Any]:
    mover = await linkage.move_resident()
    provider_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    forwarded = {
        "query_id": uuid.uuid4().hex,
        "requester_code": HIGASHIMURAYAMA.code,
        "requester_key_id": requester_key_id,
        "provider_symbol": provider_symbol,
        "procedure_code": CHILD_ALLOWANCE,
        "item_codes": INCOME_ITEMS,
    }
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as broker:
        response = await broker.post("/provisions", json=forwarded)
    return response.status_code, response.json()


async def test_answer_is_sealed_to_the_requesters_signing_component_key(linkage: Linkage) -> None:
    status, answer = await _forwarded(linkage, f"{HIGASHIMURAYAMA.code}.intermediate")
    requester_keys = linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys
    opened = open_sealed_json(answer["ciphertext"], requester_keys.encryption_key)
    assert status == 200
    assert {item["item_code"] for item in opened["items"]} == set(INCOME_ITEMS)


async def test_provider_refuses_to_seal_to_another_institutions_key(linkage: Linkage) -> None:
    status, problem = await _forwarded(linkage, f"{KODAIRA.code}.intermediate")
    assert (status, problem["code"]) == (404, "unknown_requester")
