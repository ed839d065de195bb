"""Batch queries at the broker (POST /queries/batch): one procedure, provider and item list for
many persons, e.g. 東村山市's yearly income check of every child-allowance recipient. Each person
is translated, forwarded, answered, sealed and recorded on their own; the whitelist is checked
once for the batch and, when it refuses, every person's refusal is recorded (rule 4).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import delete

from municipality.intermediate.symbols.models import SymbolLink
from services.sealing import open_sealed_json
from tests.unit.linkage_fixture import (
    BROKER,
    BROKER_TIMEOUT,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    PROVIDER_DELAY,
    Linkage,
    Mover,
    signed_broker_batch,
    slow_down,
    stored_text,
    synthetic_resident,
    timed,
)

SYMBOL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def invented_symbol() -> str:
    return "".join(secrets.choice(SYMBOL_ALPHABET) for _ in range(32))


async def requester_symbol(linkage: Linkage, mover: Mover) -> str:
    return await linkage.symbol_held_by(HIGASHIMURAYAMA, mover.address_numbers["higashimurayama"])


async def newcomer_symbol(linkage: Linkage) -> str:
    """A resident registered only in 東村山市: 小平市 holds nothing on them."""
    response = await linkage.register_residents(HIGASHIMURAYAMA, [synthetic_resident(50, HIGASHIMURAYAMA)])
    assert response.status_code == 200, response.text
    return await linkage.symbol_held_by(HIGASHIMURAYAMA, response.json()["residents"][0]["address_number"])


def records_by_query(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["query_id"]: record for record in records}


def opened(linkage: Linkage, ciphertext: str) -> Any:
    return open_sealed_json(ciphertext, linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys.encryption_key)


async def test_batch_gives_each_person_their_own_result_and_provision_record(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    forgotten = await linkage.move_resident(3)  # 小平市's server loses its link: it no longer holds them
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        forgotten_here = SymbolLink.address_number == forgotten.address_numbers["kodaira"]
        await session.execute(delete(SymbolLink).where(forgotten_here))
        await session.commit()
    symbols = [
        await requester_symbol(linkage, movers[0]),
        await newcomer_symbol(linkage),
        invented_symbol(),
        await requester_symbol(linkage, forgotten),
        await requester_symbol(linkage, movers[1]),
    ]

    response = await signed_broker_batch(linkage, symbols)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["provider_code"], answer["whitelist_row"]) == (KODAIRA.code, "R001")
    results = answer["results"]
    assert [r["requester_symbol"] for r in results] == symbols  # request order
    assert [(r["outcome"], (r["problem"] or {}).get("code")) for r in results] == [
        ("provided", None),
        ("refused", "no_symbol_at_provider"),
        ("refused", "unknown_symbol"),
        ("failed", "unknown_symbol"),  # the provider's own answer for that person
        ("provided", None),
    ]
    for result, mover in ((results[0], movers[0]), (results[4], movers[1])):
        payload = opened(linkage, result["ciphertext"])  # each answer sealed on its own
        assert payload["query_id"] == result["query_id"]
        assert {item["item_code"]: item["value"] for item in payload["items"]} == {
            "tax.taxable_income": mover.taxable_income,
            "tax.income_levy": mover.income_levy,
        }
    assert all(r["ciphertext"] is None for r in results[1:4])
    records = records_by_query(await linkage.provision_records())
    assert len(records) == len(symbols) == len({r["query_id"] for r in results})
    for result in results:
        record = records[result["query_id"]]
        assert record["outcome"] == result["outcome"]
        assert record["outcome_code"] == (result["problem"] or {}).get("code", "provided")
        assert record["whitelist_row"] == "R001"
    assert records[results[0]["query_id"]]["provider_symbol"] == await linkage.symbol_held_by(
        KODAIRA, movers[0].address_numbers["kodaira"]
    )
    assert records[results[2]["query_id"]]["provider_symbol"] is None


async def test_batch_over_the_limit_is_refused_whole_with_422(linkage: Linkage) -> None:
    response = await signed_broker_batch(linkage, [invented_symbol() for _ in range(1001)])

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_request"
    assert await linkage.provision_records() == []


async def test_batch_naming_a_person_twice_is_refused_whole_with_422(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    symbol = await requester_symbol(linkage, mover)

    response = await signed_broker_batch(linkage, [symbol, invented_symbol(), symbol])

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "once" in json.dumps(response.json()["errors"])
    assert await linkage.provision_records() == []


async def test_off_list_batch_is_refused_whole_and_every_person_is_recorded(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await requester_symbol(linkage, m) for m in movers] + [invented_symbol()]

    response = await signed_broker_batch(linkage, symbols, procedure="child_medical_subsidy.certification")

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_on_whitelist"
    records = await linkage.provision_records()
    assert len(records) == len(symbols)
    assert {(r["outcome"], r["outcome_code"], r["whitelist_row"]) for r in records} == {
        ("refused", "not_on_whitelist", None)
    }
    # the known persons are named (by 小平市's symbol), so the refusal shows in their records
    assert {r["provider_symbol"] for r in records} == {
        *[await linkage.symbol_held_by(KODAIRA, m.address_numbers["kodaira"]) for m in movers],
        None,
    }


async def test_provider_down_during_a_batch_is_503_and_every_forwarded_person_failed(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await requester_symbol(linkage, m) for m in movers] + [invented_symbol()]
    linkage.take_down(KODAIRA.intermediate_host)

    response = await signed_broker_batch(linkage, symbols)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_unavailable"
    outcomes = sorted((r["outcome"], r["outcome_code"]) for r in await linkage.provision_records())
    assert outcomes == [
        ("failed", "upstream_unavailable"),
        ("failed", "upstream_unavailable"),
        ("refused", "unknown_symbol"),  # refused before anything was forwarded
    ]


async def test_slow_provider_during_a_batch_is_504_within_the_timeout_and_recorded(
    linkage: Linkage,
) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await requester_symbol(linkage, m) for m in movers]
    slow_down(linkage, KODAIRA.intermediate_host, "/provisions/batch", PROVIDER_DELAY)

    response, elapsed = await timed(signed_broker_batch(linkage, symbols))

    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_timeout"
    assert elapsed < BROKER_TIMEOUT + 2.0
    records = await linkage.provision_records()
    assert [(r["outcome"], r["outcome_code"]) for r in records] == [("failed", "upstream_timeout")] * 2
    assert all(r["latency_ms"] >= BROKER_TIMEOUT * 1000 for r in records)


async def test_broker_holds_no_item_value_after_a_batch(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await requester_symbol(linkage, m) for m in movers]

    response = await signed_broker_batch(linkage, symbols)

    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["provided", "provided"]
    broker_data = await stored_text(linkage.database(BROKER))
    for mover in movers:
        for content in (mover.taxable_income, mover.income_levy, mover.individual_number):
            assert str(content) not in broker_data
            assert str(content) not in response.text  # relayed sealed, never in the clear


async def test_only_intermediate_servers_may_send_a_batch(linkage: Linkage) -> None:
    body = {
        "requester_symbols": [invented_symbol()],
        "procedure_code": "child_allowance.certification",
        "provider_code": KODAIRA.code,
        "item_codes": INCOME_ITEMS,
    }
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.city_host) as client:
        response = await client.post("/queries/batch", json=body)

    assert response.status_code == 403
    assert response.json()["code"] == "caller_not_permitted"
