"""Anchors (broker `/log-anchors`): an intermediate server hands the broker its access log's signed
tree head, which it cannot take back. The broker keeps only heads the caller's own registered key
signed, never one that would shrink the log, and shows them to the operator and the institution."""

from __future__ import annotations

from typing import Any

import httpx

from services.access_log_audit import ACCESS_LOG, AccessLogHead
from services.keys import b64, load_or_create_keys
from services.merkle import EMPTY_ROOT
from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, KODAIRA, OPERATOR, City, Linkage


def signed_head(linkage: Linkage, city: City, tree_size: int, root: bytes, *, key: Any = None) -> dict[str, Any]:
    keys = linkage.network.runtime(city.intermediate_host).keys
    head = AccessLogHead(tree_size, 1_800_000_000_000 + tree_size, root)
    return {
        "log": ACCESS_LOG,
        "tree_size": tree_size,
        "root_hash": b64(head.root_hash),
        "timestamp": head.timestamp,
        "signature": b64(head.sign(key or keys.signing_key)),
        "key_id": keys.key_id,
    }


async def anchor(linkage: Linkage, city: City, head: dict[str, Any]) -> httpx.Response:
    async with linkage.network.client_for(BROKER, signed_as=city.intermediate_host) as client:
        return await client.post("/log-anchors", json=head)


async def anchors(linkage: Linkage, city: City, headers: dict[str, str] | None = None) -> httpx.Response:
    signed_as = None if headers else HIGASHIMURAYAMA.intermediate_host
    async with linkage.network.client_for(BROKER, signed_as=signed_as) as client:
        return await client.get("/log-anchors", params={"institution": city.code, "log": ACCESS_LOG}, headers=headers)


async def test_broker_keeps_heads_the_intermediate_server_signed_in_growing_order(linkage: Linkage) -> None:
    first = signed_head(linkage, HIGASHIMURAYAMA, 3, b"\x01" * 32)
    second = signed_head(linkage, HIGASHIMURAYAMA, 5, b"\x02" * 32)

    responses = [await anchor(linkage, HIGASHIMURAYAMA, head) for head in (first, second, second)]

    assert [r.status_code for r in responses] == [201, 201, 201]  # the same head again is answered with it
    kept = (await anchors(linkage, HIGASHIMURAYAMA, OPERATOR)).json()
    assert [(a["institution_code"], a["tree_size"], a["root_hash"]) for a in kept] == [
        (HIGASHIMURAYAMA.code, 3, first["root_hash"]),
        (HIGASHIMURAYAMA.code, 5, second["root_hash"]),
    ]
    assert (await anchors(linkage, HIGASHIMURAYAMA)).json() == kept  # the institution itself, signed


async def test_broker_refuses_a_head_with_a_forged_signature(linkage: Linkage, tmp_path: Any) -> None:
    forger = load_or_create_keys(tmp_path / "forger", "forger")
    forged = signed_head(linkage, HIGASHIMURAYAMA, 4, b"\x03" * 32, key=forger.signing_key)
    tampered = {**signed_head(linkage, HIGASHIMURAYAMA, 4, b"\x03" * 32), "tree_size": 40}

    responses = [await anchor(linkage, HIGASHIMURAYAMA, head) for head in (forged, tampered)]

    assert [(r.status_code, r.json()["code"]) for r in responses] == [(400, "anchor_signature_invalid")] * 2
    assert (await anchors(linkage, HIGASHIMURAYAMA, OPERATOR)).json() == []


async def test_broker_refuses_a_head_signed_by_another_institution(linkage: Linkage) -> None:
    kodaira_head = signed_head(linkage, KODAIRA, 2, b"\x04" * 32)

    response = await anchor(linkage, HIGASHIMURAYAMA, kodaira_head)

    assert (response.status_code, response.json()["code"]) == (403, "anchor_key_not_callers")


async def test_broker_refuses_a_head_that_shrinks_or_forks_the_log(linkage: Linkage) -> None:
    assert (await anchor(linkage, HIGASHIMURAYAMA, signed_head(linkage, HIGASHIMURAYAMA, 5, EMPTY_ROOT))).is_success

    shrunk = await anchor(linkage, HIGASHIMURAYAMA, signed_head(linkage, HIGASHIMURAYAMA, 4, EMPTY_ROOT))
    forked = await anchor(linkage, HIGASHIMURAYAMA, signed_head(linkage, HIGASHIMURAYAMA, 5, b"\x05" * 32))

    assert (shrunk.status_code, shrunk.json()["code"]) == (409, "anchor_size_shrinks")
    assert (forked.status_code, forked.json()["code"]) == (409, "anchor_root_conflict")
    assert [a["tree_size"] for a in (await anchors(linkage, HIGASHIMURAYAMA, OPERATOR)).json()] == [5]


async def test_only_the_operator_or_the_institution_reads_its_anchors(linkage: Linkage) -> None:
    async with linkage.network.client_for(BROKER, signed_as=KODAIRA.intermediate_host) as client:
        other = await client.get("/log-anchors", params={"institution": HIGASHIMURAYAMA.code, "log": ACCESS_LOG})
    async with linkage.network.client_for(BROKER) as client:
        anonymous = await client.get("/log-anchors", params={"institution": HIGASHIMURAYAMA.code, "log": ACCESS_LOG})

    assert (other.status_code, other.json()["code"]) == (403, "caller_not_permitted")
    assert anonymous.status_code == 401
