"""The broker's query relay (情報照会): 東村山市's child-allowance staff ask 小平市 for a mover's
income. The broker checks the whitelist, translates 東村山市's symbol into 小平市's, relays the
sealed answer and records every outcome, without ever holding the content or telling one city
the other's symbol.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.http import ServiceClient
from services.keys import load_or_create_keys
from services.problems import UpstreamError
from tests.unit.linkage_fixture import (
    BROKER,
    BROKER_TIMEOUT,
    CHILD_ALLOWANCE,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    PROVIDER_DELAY,
    Linkage,
    slow_down,
    stored_text,
    synthetic_resident,
    timed,
)

SYMBOL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Exchange:
    """One response the broker sent, and who signed the request it answered (None: unsigned)."""

    signer: str | None
    path: str
    status: int
    body: str


class RecordingTransport(httpx.ASGITransport):
    """Routes to the app like the harness does, keeping a copy of every response body."""

    def __init__(self, app: FastAPI, exchanges: list[Exchange]) -> None:
        super().__init__(app=app)
        self.exchanges = exchanges

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        body = await response.aread()
        signer = re.search(r'keyid="([^"]+)"', request.headers.get("signature-input", ""))
        self.exchanges.append(
            Exchange(signer.group(1) if signer else None, request.url.path, response.status_code, body.decode())
        )
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@pytest.fixture
def broker_responses(linkage: Linkage) -> list[Exchange]:
    exchanges: list[Exchange] = []
    linkage.network.transport.apps[BROKER] = RecordingTransport(linkage.network.apps[BROKER], exchanges)
    return exchanges


async def signed_broker_query(linkage: Linkage, requester_symbol: str) -> httpx.Response:
    """POST /queries to the broker exactly as 東村山市's intermediate server would (signed by it)."""
    body = {
        "requester_symbol": requester_symbol,
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": KODAIRA.code,
        "item_codes": INCOME_ITEMS,
    }
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.intermediate_host) as client:
        return await client.post("/queries", json=body)


async def child_allowance_token(linkage: Linkage) -> str:
    return await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")


def only_record(records: list[dict[str, Any]], **expected: Any) -> dict[str, Any]:
    matching = [r for r in records if all(r[key] == value for key, value in expected.items())]
    assert len(matching) == 1, records
    return matching[0]


async def test_staff_query_returns_income_that_the_other_city_holds(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)

    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["provider_code"] == KODAIRA.code
    assert answer["whitelist_row"] == "R001"
    assert answer["missing_items"] == []
    values = {item["item_code"]: (item["period"], item["value"]) for item in answer["items"]}
    assert values == {
        "tax.taxable_income": (str(mover.tax_year), mover.taxable_income),
        "tax.income_levy": (str(mover.tax_year), mover.income_levy),
    }


async def test_broker_records_provision_under_providers_symbol_and_without_content(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    answer = (await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])).json()

    record = only_record(await linkage.provision_records(), query_id=answer["query_id"])

    assert record["outcome"] == "provided"
    assert record["outcome_code"] == "provided"
    assert (record["requester_code"], record["provider_code"]) == (HIGASHIMURAYAMA.code, KODAIRA.code)
    assert record["procedure_code"] == CHILD_ALLOWANCE
    assert record["item_codes"] == sorted(INCOME_ITEMS)
    assert record["whitelist_row"] == "R001"
    assert record["provider_symbol"] == await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    assert record["provider_symbol"] != await linkage.symbol_held_by(
        HIGASHIMURAYAMA, mover.address_numbers["higashimurayama"]
    )
    broker_data = await stored_text(linkage.database(BROKER))
    for content in (mover.taxable_income, mover.income_levy, mover.individual_number):
        assert str(content) not in json.dumps(record)
        assert str(content) not in broker_data


async def test_broker_refuses_procedure_not_on_whitelist_and_records_the_refusal(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)

    response = await linkage.staff_query(
        HIGASHIMURAYAMA,
        token,
        mover.address_numbers["higashimurayama"],
        procedure="child_medical_subsidy.certification",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_on_whitelist"
    record = only_record(await linkage.provision_records(), procedure_code="child_medical_subsidy.certification")
    assert (record["outcome"], record["outcome_code"]) == ("refused", "not_on_whitelist")
    assert record["whitelist_row"] is None
    assert record["requester_code"] == HIGASHIMURAYAMA.code


async def test_broker_refuses_symbol_it_never_issued_and_records_the_refusal(linkage: Linkage) -> None:
    invented = "".join(secrets.choice(SYMBOL_ALPHABET) for _ in range(32))

    response = await signed_broker_query(linkage, invented)

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_symbol"
    record = only_record(await linkage.provision_records(), requester_code=HIGASHIMURAYAMA.code)
    assert (record["outcome"], record["outcome_code"]) == ("refused", "unknown_symbol")
    assert record["provider_symbol"] is None


async def test_broker_reports_provider_down_as_unavailable_and_records_the_failure(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    symbol = await linkage.symbol_held_by(HIGASHIMURAYAMA, mover.address_numbers["higashimurayama"])
    linkage.take_down(KODAIRA.intermediate_host)

    response = await signed_broker_query(linkage, symbol)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_unavailable"
    record = only_record(await linkage.provision_records(), requester_code=HIGASHIMURAYAMA.code)
    assert (record["outcome"], record["outcome_code"]) == ("failed", "upstream_unavailable")
    assert record["whitelist_row"] == "R001"


async def test_staff_query_to_a_provider_that_is_down_is_503_unavailable_not_server_error(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    linkage.take_down(KODAIRA.intermediate_host)

    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])

    # The broker answered 503 (provider unreachable); staff see the same status and code.
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_unavailable"


async def test_broker_never_tells_a_city_the_other_citys_symbol(
    linkage: Linkage, broker_responses: list[Exchange]
) -> None:
    mover = await linkage.move_resident()
    newcomer = synthetic_resident(2, HIGASHIMURAYAMA)  # known to 東村山市 only
    registered = await linkage.register_residents(HIGASHIMURAYAMA, [newcomer])
    token = await child_allowance_token(linkage)
    here = mover.address_numbers["higashimurayama"]
    outcomes = [
        await linkage.staff_query(HIGASHIMURAYAMA, token, here),
        await linkage.staff_query(HIGASHIMURAYAMA, token, here, procedure="child_medical_subsidy.certification"),
        await linkage.staff_query(HIGASHIMURAYAMA, token, registered.json()["residents"][0]["address_number"]),
        await signed_broker_query(linkage, await linkage.symbol_held_by(HIGASHIMURAYAMA, here)),
    ]
    kodaira_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    higashimurayama_symbol = await linkage.symbol_held_by(HIGASHIMURAYAMA, here)

    assert [r.status_code for r in outcomes] == [200, 403, 404, 200]
    assert outcomes[2].json()["code"] == "no_symbol_at_provider"
    to_higashimurayama = [e for e in broker_responses if e.signer == HIGASHIMURAYAMA.intermediate_key_id]
    to_kodaira = [e for e in broker_responses if e.signer == KODAIRA.intermediate_key_id]
    assert {e.path for e in to_higashimurayama} == {"/symbols", "/queries"}
    assert {e.path for e in to_kodaira} == {"/symbols"}
    assert all(kodaira_symbol not in e.body for e in to_higashimurayama)
    assert all(higashimurayama_symbol not in e.body for e in to_kodaira)
    assert all(kodaira_symbol not in r.text for r in outcomes)


async def test_broker_answers_504_when_the_provider_is_slow_and_records_the_timeout(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    symbol = await linkage.symbol_held_by(HIGASHIMURAYAMA, mover.address_numbers["higashimurayama"])
    slow_down(linkage, KODAIRA.intermediate_host, "/provisions", PROVIDER_DELAY)

    response, elapsed = await timed(signed_broker_query(linkage, symbol))

    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_timeout"
    assert BROKER_TIMEOUT <= elapsed < PROVIDER_DELAY  # it gave up at its timeout, not at the provider's pace
    record = only_record(await linkage.provision_records(), requester_code=HIGASHIMURAYAMA.code)
    assert (record["outcome"], record["outcome_code"]) == ("failed", "upstream_timeout")
    assert record["whitelist_row"] == "R001"
    assert record["latency_ms"] >= BROKER_TIMEOUT * 1000


async def test_staff_query_to_a_slow_provider_is_504_timeout_and_logged(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    slow_down(linkage, KODAIRA.intermediate_host, "/provisions", PROVIDER_DELAY)

    response, elapsed = await timed(
        linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    )

    # The broker gave up after its timeout; the city passes its 504 on to the staff member.
    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["upstream"]) == ("upstream_timeout", "broker")
    assert elapsed < PROVIDER_DELAY  # the staff member did not wait for the provider
    [entry] = (await linkage.access_log(HIGASHIMURAYAMA))["entries"]
    assert entry["outcome"] == "refused:upstream_timeout"
    record = only_record(await linkage.provision_records(), requester_code=HIGASHIMURAYAMA.code)
    assert (record["outcome"], record["outcome_code"]) == ("failed", "upstream_timeout")


# The in-process network has no sockets; these check the real client (aiohttp under httpx) that
# services use between processes: a slow callee is 504 within the timeout, an absent one 503.


async def _never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    await asyncio.sleep(PROVIDER_DELAY)
    writer.close()


async def _trickles(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Sends a byte every 0.1 s: never idle long enough for a per-read timeout to fire."""
    await reader.read(65536)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
    try:
        for _ in range(100):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)
    except ConnectionError:
        pass  # the client gave up, as it should
    writer.close()


@pytest.mark.parametrize("server", [_never_answers, _trickles])
async def test_real_client_gives_504_upstream_timeout_within_the_timeout(tmp_path: Path, server: Any) -> None:
    client = ServiceClient(load_or_create_keys(tmp_path / "keys", "broker.broker"), BROKER_TIMEOUT)
    listener = await asyncio.start_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        started = time.perf_counter()
        with pytest.raises(UpstreamError) as raised:
            await client.call("POST", f"http://127.0.0.1:{port}/provisions", {}, upstream="小平市")
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
        listener.close()
    assert (raised.value.status, raised.value.code) == (504, "upstream_timeout")
    assert BROKER_TIMEOUT <= elapsed < PROVIDER_DELAY  # it gave up at its timeout, not the server's pace


async def test_real_client_gives_503_upstream_unavailable_when_nothing_listens(tmp_path: Path) -> None:
    client = ServiceClient(load_or_create_keys(tmp_path / "keys", "broker.broker"), BROKER_TIMEOUT)
    listener = await asyncio.start_server(_never_answers, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()  # the port is now closed: connections are refused
    try:
        with pytest.raises(UpstreamError) as raised:
            await client.call("POST", f"http://127.0.0.1:{port}/provisions", {}, upstream="小平市")
    finally:
        await client.aclose()
    # httpx-aiohttp reports a refused connection as ConnectTimeout; it is not a timeout.
    assert (raised.value.status, raised.value.code) == (503, "upstream_unavailable")
