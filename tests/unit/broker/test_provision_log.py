"""The provision log (RFC 9162): the broker signs tree heads over every provision record, and an
auditor holding only the broker's public key can check that a record is logged unaltered and that
the log only grew. My Portal may ask for proofs of the resident's own records, and no others."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from broker.provision_records.models import ProvisionRecord
from broker.symbols.models import InstitutionSymbol
from devnet.audit import AuditFailure, main, verify_record_inclusion, verify_tree_head
from services.db import utc_now
from services.keys import b64, load_or_create_keys, unb64
from services.merkle import TreeHead, canonical_json, inclusion_proof, leaf_hash, root_hash, verify_consistency
from services.signing import RegisteredKey, RequestSigner
from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, KODAIRA, OPERATOR, Linkage

PORTAL_CODE = "portal"
MOVER_SYMBOL = "A" * 32
STRANGER_SYMBOL = "B" * 32


async def query_for_mover(linkage: Linkage) -> str:
    """A provided query about a mover; returns its query id."""
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert response.status_code == 200, response.text
    query_id: str = response.json()["query_id"]
    return query_id


async def refused_query(linkage: Linkage) -> None:
    """A query the broker refuses (unknown symbol, off the whitelist): recorded all the same."""
    body = {
        "requester_symbol": "Z" * 32,
        "procedure_code": "no_such.procedure",
        "provider_code": KODAIRA.code,
        "item_codes": ["tax.income_levy"],
    }
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.intermediate_host) as client:
        response = await client.post("/queries", json=body)
    assert response.status_code in (403, 404), response.text


async def get(linkage: Linkage, path: str, **params: Any) -> httpx.Response:
    async with linkage.network.client_for(BROKER) as client:
        return await client.get(path, params=params, headers=OPERATOR)


async def broker_public_key(linkage: Linkage) -> str:
    async with linkage.network.client_for(BROKER) as client:
        return str((await client.get("/.well-known/institution")).json()["signing_public_key"])


async def verified_head(linkage: Linkage) -> TreeHead:
    response = await get(linkage, "/provision-log/tree-head")
    assert response.status_code == 200, response.text
    assert response.json()["key_id"] == "broker.broker"
    return verify_tree_head(response.json(), await broker_public_key(linkage))


async def inclusion(linkage: Linkage, query_id: str, tree_size: int) -> dict[str, Any]:
    response = await get(linkage, "/provision-log/inclusion", query_id=query_id, tree_size=tree_size)
    assert response.status_code == 200, response.text
    proof: dict[str, Any] = response.json()
    return proof


async def test_signed_tree_head_verifies_and_a_query_record_is_proven_in_it(linkage: Linkage) -> None:
    query_id = await query_for_mover(linkage)
    head = await verified_head(linkage)
    assert head.tree_size >= 1
    proof = await inclusion(linkage, query_id, head.tree_size)
    assert proof["record"]["query_id"] == query_id
    assert proof["record"]["outcome"] == "provided"
    verify_record_inclusion(head, proof)  # raises if the record or the proof is off


async def test_log_indexes_every_record_densely_including_refusals(linkage: Linkage) -> None:
    await query_for_mover(linkage)
    await refused_query(linkage)
    records = await linkage.provision_records()
    async with linkage.database(BROKER).sessions() as session:
        indexes = sorted((await session.scalars(select(ProvisionRecord.leaf_index))).all())
    assert indexes == list(range(len(records)))
    head = await verified_head(linkage)
    for record in records:  # refused records have null fields; their leaves still recompute
        verify_record_inclusion(head, await inclusion(linkage, record["query_id"], head.tree_size))


async def test_tampering_a_stored_record_is_detected(linkage: Linkage) -> None:
    query_id = await query_for_mover(linkage)
    head = await verified_head(linkage)
    async with linkage.database(BROKER).sessions() as session:
        await session.execute(
            text("UPDATE provision_records SET outcome_code = 'x' WHERE query_id = :q"), {"q": query_id}
        )
        await session.commit()
    tampered = await inclusion(linkage, query_id, head.tree_size)
    with pytest.raises(AuditFailure, match="differs from what the log holds"):
        verify_record_inclusion(head, tampered)
    # Covering up by rewriting the leaf hash too changes the tree: the earlier signed head exposes it.
    forged_leaf = leaf_hash(canonical_json(tampered["record"])).hex()
    async with linkage.database(BROKER).sessions() as session:
        await session.execute(
            text("UPDATE provision_records SET leaf_hash = :h WHERE query_id = :q"), {"h": forged_leaf, "q": query_id}
        )
        await session.commit()
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(head, await inclusion(linkage, query_id, head.tree_size))


async def test_later_tree_head_is_consistent_with_an_earlier_one(linkage: Linkage) -> None:
    await query_for_mover(linkage)
    earlier = await verified_head(linkage)
    for _ in range(3):
        await refused_query(linkage)
    later = await verified_head(linkage)
    assert later.tree_size > earlier.tree_size
    response = await get(linkage, "/provision-log/consistency", first=earlier.tree_size, second=later.tree_size)
    assert response.status_code == 200, response.text
    proof = [unb64(node) for node in response.json()["proof"]]
    assert verify_consistency(earlier.tree_size, later.tree_size, earlier.root_hash, later.root_hash, proof)
    assert not verify_consistency(earlier.tree_size, later.tree_size, later.root_hash, later.root_hash, proof)


async def test_log_endpoints_refuse_callers_without_the_operator_token(linkage: Linkage) -> None:
    query_id = await query_for_mover(linkage)
    async with linkage.network.client_for(BROKER) as client:
        for path, params in (
            ("/provision-log/tree-head", {}),
            ("/provision-log/inclusion", {"query_id": query_id}),
            ("/provision-log/consistency", {"first": 1, "second": 1}),
        ):
            response = await client.get(path, params=params)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/problem+json"


async def test_log_names_unknown_records_and_impossible_tree_sizes(linkage: Linkage) -> None:
    query_id = await query_for_mover(linkage)
    unknown = await get(linkage, "/provision-log/inclusion", query_id="0" * 32)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_record")
    too_big = await get(linkage, "/provision-log/inclusion", query_id=query_id, tree_size=10_000)
    assert (too_big.status_code, too_big.json()["code"]) == (400, "tree_size_invalid")
    backwards = await get(linkage, "/provision-log/consistency", first=2, second=1)
    assert (backwards.status_code, backwards.json()["code"]) == (400, "tree_size_invalid")


async def portal_client(linkage: Linkage, tmp_path: Path) -> httpx.AsyncClient:
    """A My Portal component registered on the network, with a symbol for the mover and one for
    somebody else, as the broker would have issued them."""
    keys = load_or_create_keys(tmp_path / "portal-keys", f"{PORTAL_CODE}.portal")
    linkage.network.directory.keys[keys.key_id] = RegisteredKey(
        key_id=keys.key_id,
        institution_code=PORTAL_CODE,
        institution_name="マイナポータル",
        institution_kind="portal",
        component="portal",
        base_url="http://portal.test",
        signing_public_key=keys.signing_public_b64(),
        encryption_public_key=keys.encryption_public_b64(),
    )
    async with linkage.database(BROKER).sessions() as session:
        serial = await session.scalar(
            select(ProvisionRecord.person_serial).where(ProvisionRecord.outcome == "provided")
        )
        assert serial is not None
        for symbol, person in ((MOVER_SYMBOL, serial), (STRANGER_SYMBOL, "f" * 32)):
            session.add(
                InstitutionSymbol(
                    institution_code=PORTAL_CODE, symbol=symbol, person_serial=person, epoch=1, issued_at=utc_now()
                )
            )
        await session.commit()
    return httpx.AsyncClient(transport=linkage.network.transport, base_url=f"http://{BROKER}", auth=RequestSigner(keys))


async def test_portal_proves_the_residents_own_record_and_is_refused_anothers(linkage: Linkage, tmp_path: Path) -> None:
    query_id = await query_for_mover(linkage)
    async with await portal_client(linkage, tmp_path) as portal:
        [record] = (await portal.post("/provision-records/search", json={"symbol": MOVER_SYMBOL})).json()["records"]
        assert record["query_id"] == query_id
        head_response = await portal.get("/provision-log/tree-head")
        assert head_response.status_code == 200, head_response.text
        head = verify_tree_head(head_response.json(), await broker_public_key(linkage))
        own = await portal.post(
            "/provision-log/inclusion",
            json={"query_id": query_id, "symbol": MOVER_SYMBOL, "tree_size": head.tree_size},
        )
        assert own.status_code == 200, own.text
        assert own.json()["leaf_index"] == record["leaf_index"]
        assert own.json()["record"] is None  # no symbols or serials for the portal
        verify_record_inclusion(head, own.json())
        other = await portal.post("/provision-log/inclusion", json={"query_id": query_id, "symbol": STRANGER_SYMBOL})
        assert (other.status_code, other.json()["code"]) == (403, "record_not_yours")
        operator_only = await portal.get("/provision-log/inclusion", params={"query_id": query_id})
        assert operator_only.status_code == 401


def test_audit_accepts_a_signed_head_and_proof_and_rejects_a_forgery(tmp_path: Path) -> None:
    """devnet.audit's checks, fed a head and a proof directly (no network)."""
    keys = load_or_create_keys(tmp_path / "broker-keys", "broker.broker")
    records = [{"query_id": f"q{i}", "outcome": "provided", "whitelist_row": None} for i in range(5)]
    hashes = [leaf_hash(canonical_json(record)) for record in records]
    head = TreeHead(5, 1_700_000_000_000, root_hash(hashes))
    signed = {
        "tree_size": 5,
        "timestamp": head.timestamp,
        "root_hash": b64(head.root_hash),
        "signature": b64(head.sign(keys.signing_key)),
    }
    audit_path = [b64(node) for node in inclusion_proof(3, hashes)]
    proof: dict[str, Any] = {
        "leaf_index": 3,
        "tree_size": 5,
        "leaf_hash": b64(hashes[3]),
        "audit_path": audit_path,
        "record": records[3],
    }
    verified = verify_tree_head(signed, keys.signing_public_b64())
    verify_record_inclusion(verified, proof)
    stranger = load_or_create_keys(tmp_path / "other-keys", "broker.broker")
    with pytest.raises(AuditFailure, match="signature"):
        verify_tree_head(signed, stranger.signing_public_b64())
    with pytest.raises(AuditFailure, match="signature"):
        verify_tree_head({**signed, "tree_size": 6}, keys.signing_public_b64())
    with pytest.raises(AuditFailure, match="differs"):
        verify_record_inclusion(verified, {**proof, "record": {**records[3], "outcome": "refused"}})
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(verified, {**proof, "leaf_index": 2})
    flipped = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(verified, {**proof, "audit_path": [flipped, *audit_path[1:]]})


def test_audit_cli_exits_1_with_a_reason_when_it_cannot_verify(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--broker", "http://127.0.0.1:9", "--operator-token", "t", "--query-id", "q"])
    assert code == 1
    assert "NOT VERIFIED" in capsys.readouterr().err
