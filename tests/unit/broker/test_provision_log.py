"""The provision log (RFC 9162): the broker signs tree heads over every provision record, and an
auditor holding only the broker's public key can check that a record is logged unaltered and that
the log only grew. Leaves commit to the person without naming them: only the operator gets the
opening. My Portal may ask for proofs of the resident's own records, and no others."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from broker.provision_records.models import ProvisionRecord
from broker.symbols.models import InstitutionSymbol
from devnet.audit import main
from services.db import utc_now
from services.keys import b64, load_or_create_keys, unb64
from services.log_audit import (
    AuditFailure,
    record_leaf_hash,
    subject_commitment,
    verify_entries,
    verify_record_inclusion,
    verify_tree_head,
)
from services.merkle import TreeHead, inclusion_proof, root_hash, verify_consistency
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
    verify_record_inclusion(head, proof)  # raises if the record, its opening or the proof is off
    [stored] = [record for record in await linkage.provision_records() if record["query_id"] == query_id]
    # The leaf names the person only through the commitment; the operator gets its opening.
    assert set(proof["record"]).isdisjoint({"person_serial", "provider_symbol"})
    assert proof["opening"]["provider_symbol"] == stored["provider_symbol"] is not None
    assert proof["opening"]["person_serial"] is not None


async def test_tree_head_is_stored_and_handed_out_again_until_the_log_grows(linkage: Linkage) -> None:
    await query_for_mover(linkage)
    first = (await get(linkage, "/provision-log/tree-head")).json()
    again = (await get(linkage, "/provision-log/tree-head")).json()
    assert again == first  # same timestamp and signature: not signed anew
    await refused_query(linkage)
    grown = (await get(linkage, "/provision-log/tree-head")).json()
    assert grown["tree_size"] == first["tree_size"] + 1
    async with linkage.database(BROKER).sessions() as session:
        sizes = (await session.scalars(text("SELECT tree_size FROM provision_log_heads ORDER BY tree_size"))).all()
    assert sizes == [first["tree_size"], grown["tree_size"]]


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
    forged_leaf = record_leaf_hash(tampered["record"]).hex()
    async with linkage.database(BROKER).sessions() as session:
        await session.execute(
            text("UPDATE provision_records SET leaf_hash = :h WHERE query_id = :q"), {"h": forged_leaf, "q": query_id}
        )
        await session.commit()
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(head, await inclusion(linkage, query_id, head.tree_size))


async def test_rewriting_who_a_record_was_about_is_detected(linkage: Linkage) -> None:
    query_id = await query_for_mover(linkage)
    head = await verified_head(linkage)
    async with linkage.database(BROKER).sessions() as session:
        await session.execute(
            text("UPDATE provision_records SET person_serial = :s WHERE query_id = :q"), {"s": "f" * 32, "q": query_id}
        )
        await session.commit()
    with pytest.raises(AuditFailure, match="differs from what the log holds"):
        verify_record_inclusion(head, await inclusion(linkage, query_id, head.tree_size))


async def test_whole_log_downloads_and_verifies_and_names_a_tampered_entry(linkage: Linkage) -> None:
    await query_for_mover(linkage)
    for _ in range(4):
        await refused_query(linkage)
    head = await verified_head(linkage)
    entries = (await get(linkage, "/provision-log/entries", start=0, end=head.tree_size)).json()["entries"]
    assert [entry["leaf_index"] for entry in entries] == list(range(head.tree_size))
    assert all(set(entry).isdisjoint({"person_serial", "provider_symbol"}) for entry in entries)
    verify_entries(head, entries)
    page = (await get(linkage, "/provision-log/entries", start=2, end=4)).json()["entries"]
    assert page == entries[2:4]
    async with linkage.database(BROKER).sessions() as session:
        await session.execute(text("UPDATE provision_records SET item_codes = '[]' WHERE leaf_index = 3"))
        await session.commit()
    entries = (await get(linkage, "/provision-log/entries", start=0, end=head.tree_size)).json()["entries"]
    with pytest.raises(AuditFailure, match=r"entry 3 .* differs from what the log holds"):
        verify_entries(head, entries)
    too_many = await get(linkage, "/provision-log/entries", start=0, end=20_001)
    assert (too_many.status_code, too_many.json()["code"]) == (400, "range_invalid")


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
            ("/provision-log/entries", {"start": 0, "end": 1}),
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
        assert own.json()["opening"] is None  # the public fields and the commitment, no more
        assert set(own.json()["record"]).isdisjoint({"person_serial", "provider_symbol"})
        async with linkage.database(BROKER).sessions() as session:
            logged = await session.get(ProvisionRecord, query_id)
        assert logged is not None and logged.provider_symbol is not None and logged.person_serial is not None
        assert logged.provider_symbol not in own.text and logged.person_serial not in own.text
        verify_record_inclusion(head, own.json())
        other = await portal.post("/provision-log/inclusion", json={"query_id": query_id, "symbol": STRANGER_SYMBOL})
        assert (other.status_code, other.json()["code"]) == (403, "record_not_yours")
        for path, params in (("/provision-log/inclusion", {"query_id": query_id}), ("/provision-log/entries", {})):
            operator_only = await portal.get(path, params={**params, "start": 0, "end": 1})
            assert operator_only.status_code == 401, path


def logged_record(i: int, salt: str) -> dict[str, Any]:
    """A leaf's public fields, as the broker logs them."""
    return {
        "query_id": f"q{i}",
        "requested_at": "2026-11-29T10:00:00+00:00",
        "requester_code": "132136",
        "provider_code": "132110",
        "procedure_code": "child_allowance.certification",
        "item_codes": ["tax.income_levy"],
        "whitelist_version": "2026-10-01",
        "whitelist_row": None,
        "outcome": "provided",
        "outcome_code": "provided",
        "latency_ms": 12,
        "subject_commitment": subject_commitment(salt, "serial-1", "symbol-1"),
    }


def test_audit_accepts_a_signed_head_and_proof_and_rejects_a_forgery(tmp_path: Path) -> None:
    """The checks devnet.audit and My Portal share, fed a head and a proof directly (no network)."""
    keys = load_or_create_keys(tmp_path / "broker-keys", "broker.broker")
    records = [logged_record(i, f"{i:064x}") for i in range(5)]
    hashes = [record_leaf_hash(record) for record in records]
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
        "opening": {"salt": f"{3:064x}", "person_serial": "serial-1", "provider_symbol": "symbol-1"},
    }
    verified = verify_tree_head(signed, keys.signing_public_b64())
    verify_record_inclusion(verified, proof)
    verify_record_inclusion(verified, {**proof, "opening": None})  # the portal's view: no opening
    stranger = load_or_create_keys(tmp_path / "other-keys", "broker.broker")
    with pytest.raises(AuditFailure, match="signature"):
        verify_tree_head(signed, stranger.signing_public_b64())
    with pytest.raises(AuditFailure, match="signature"):
        verify_tree_head({**signed, "tree_size": 6}, keys.signing_public_b64())
    with pytest.raises(AuditFailure, match="differs"):
        verify_record_inclusion(verified, {**proof, "record": {**records[3], "outcome": "refused"}})
    with pytest.raises(AuditFailure, match="person serial or provider symbol differs"):
        verify_record_inclusion(verified, {**proof, "opening": {**proof["opening"], "person_serial": "serial-2"}})
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(verified, {**proof, "leaf_index": 2})
    with pytest.raises(AuditFailure, match="malformed"):  # a broker's garbage is a failed check, not a crash
        verify_record_inclusion(verified, {**proof, "leaf_hash": "not base64!"})
    flipped = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(AuditFailure, match="not in the signed tree"):
        verify_record_inclusion(verified, {**proof, "audit_path": [flipped, *audit_path[1:]]})


@pytest.mark.parametrize("command", [["verify", "--query-id", "q"], ["verify-log"]])
def test_audit_cli_exits_1_with_a_reason_when_it_cannot_verify(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, "--broker", "http://127.0.0.1:9", "--operator-token", "t"])
    assert code == 1
    assert "NOT VERIFIED" in capsys.readouterr().err
