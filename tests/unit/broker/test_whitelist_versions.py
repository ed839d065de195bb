"""Whitelist versions: an operator loads a new whitelist and it is in force for the next query,
on this replica and on any other reading the same database. Every version loaded is kept, and
each provision record names the version its query was checked against."""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from broker.config import WHITELIST_FILE
from broker.whitelist.service import WhitelistVersions, store_shipped_whitelist
from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, OPERATOR, Linkage

SHIPPED_TEXT = WHITELIST_FILE.read_text(encoding="utf-8")
SHIPPED_VERSION = str(yaml.safe_load(SHIPPED_TEXT)["version"])
AMENDED_VERSION = "2027-04-01"


def amended_whitelist(version: str = AMENDED_VERSION, *, drop: str = "R001", **changes: Any) -> str:
    """The shipped whitelist as a new version: without row `drop`, with top-level `changes`."""
    document = yaml.safe_load(SHIPPED_TEXT)
    document["version"] = version
    document["rows"] = [row for row in document["rows"] if row["id"] != drop]
    document.update(changes)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


async def upload(linkage: Linkage, document: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with linkage.network.client_for(BROKER) as client:
        return await client.post(
            "/whitelist/versions", json={"yaml": document, "loaded_by": "法令改正担当"}, headers=headers or OPERATOR
        )


async def in_force_version(linkage: Linkage) -> str:
    async with linkage.network.client_for(BROKER) as client:
        response = await client.get("/whitelist")
    assert response.status_code == 200, response.text
    version: str = response.json()["version"]
    return version


async def versions(linkage: Linkage) -> list[dict[str, Any]]:
    async with linkage.network.client_for(BROKER) as client:
        response = await client.get("/whitelist/versions")
    assert response.status_code == 200, response.text
    history: list[dict[str, Any]] = response.json()
    return history


async def test_shipped_whitelist_is_stored_as_the_first_version_and_in_force(linkage: Linkage) -> None:
    [only] = await versions(linkage)

    assert (only["version"], only["loaded_by"], only["in_force"]) == (SHIPPED_VERSION, "shipped file", True)
    assert await in_force_version(linkage) == SHIPPED_VERSION


async def test_new_version_without_r001_refuses_the_next_query_and_records_name_their_versions(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    address_number = mover.address_numbers["higashimurayama"]
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    before = await linkage.staff_query(HIGASHIMURAYAMA, token, address_number)
    assert before.status_code == 200, before.text

    loaded = await upload(linkage, amended_whitelist())
    after = await linkage.staff_query(HIGASHIMURAYAMA, token, address_number)

    assert loaded.status_code == 201, loaded.text
    assert (loaded.json()["version"], loaded.json()["in_force"]) == (AMENDED_VERSION, True)
    assert after.status_code == 403, after.text
    assert after.json()["code"] == "not_on_whitelist"
    records = {record["query_id"]: record for record in await linkage.provision_records()}
    assert records[before.json()["query_id"]]["whitelist_version"] == SHIPPED_VERSION
    [refused] = [record for record in records.values() if record["outcome"] == "refused"]
    assert (refused["outcome_code"], refused["whitelist_version"]) == ("not_on_whitelist", AMENDED_VERSION)
    assert await in_force_version(linkage) == AMENDED_VERSION
    history = await versions(linkage)
    assert [(v["version"], v["in_force"], v["loaded_by"]) for v in history] == [
        (AMENDED_VERSION, True, "法令改正担当"),
        (SHIPPED_VERSION, False, "shipped file"),
    ]


async def test_another_replica_reads_the_new_version_from_the_database(linkage: Linkage) -> None:
    assert (await upload(linkage, amended_whitelist())).status_code == 201

    async with linkage.database(BROKER).sessions() as session:
        whitelist = await WhitelistVersions().in_force(session)

    assert whitelist is not None
    assert whitelist.version == AMENDED_VERSION
    assert all(row.row_id != "R001" for row in whitelist.rows)


async def test_restart_keeps_the_uploaded_version_in_force(linkage: Linkage) -> None:
    assert (await upload(linkage, amended_whitelist())).status_code == 201

    await store_shipped_whitelist(linkage.database(BROKER), SHIPPED_TEXT)  # as on the next start

    assert await in_force_version(linkage) == AMENDED_VERSION
    assert len(await versions(linkage)) == 2


async def test_invalid_yaml_is_refused_and_the_old_version_stays_in_force(linkage: Linkage) -> None:
    response = await upload(linkage, "version: [unclosed\nrows: {")

    assert response.status_code == 400
    assert response.json()["code"] == "whitelist_invalid"
    assert await in_force_version(linkage) == SHIPPED_VERSION
    assert len(await versions(linkage)) == 1


async def test_row_naming_an_unknown_item_is_refused_with_the_reason(linkage: Linkage) -> None:
    document = yaml.safe_load(amended_whitelist())
    document["rows"][0]["items"].append("tax.church_tax")

    response = await upload(linkage, yaml.safe_dump(document, allow_unicode=True))

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "whitelist_invalid"
    assert "tax.church_tax" in problem["detail"]
    assert await in_force_version(linkage) == SHIPPED_VERSION
    assert len(await versions(linkage)) == 1


async def test_document_missing_its_rows_is_refused(linkage: Linkage) -> None:
    document = yaml.safe_load(amended_whitelist())
    del document["rows"]

    response = await upload(linkage, yaml.safe_dump(document, allow_unicode=True))

    assert response.status_code == 400
    assert response.json()["code"] == "whitelist_invalid"
    assert await in_force_version(linkage) == SHIPPED_VERSION


async def test_a_version_already_loaded_is_refused_as_a_conflict(linkage: Linkage) -> None:
    shipped_again = await upload(linkage, amended_whitelist(SHIPPED_VERSION))
    first = await upload(linkage, amended_whitelist())
    second = await upload(linkage, amended_whitelist(drop="R002"))

    assert shipped_again.status_code == 409
    assert shipped_again.json()["code"] == "whitelist_version_exists"
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "whitelist_version_exists"
    async with linkage.network.client_for(BROKER) as client:
        in_force = (await client.get("/whitelist")).json()
    assert "R002" in {row["id"] for row in in_force["rows"]}  # the first upload, not the refused one


async def test_yaml_body_is_accepted_as_well_as_json(linkage: Linkage) -> None:
    async with linkage.network.client_for(BROKER) as client:
        response = await client.post(
            "/whitelist/versions",
            content=amended_whitelist().encode(),
            headers={**OPERATOR, "Content-Type": "application/yaml"},
        )

    assert response.status_code == 201, response.text
    assert (response.json()["version"], response.json()["loaded_by"]) == (AMENDED_VERSION, "operator")


async def test_loading_a_version_needs_the_operator_token(linkage: Linkage) -> None:
    missing = await upload(linkage, amended_whitelist(), headers={"X-Nothing": "1"})
    wrong = await upload(linkage, amended_whitelist(), headers={"Authorization": "Bearer not-the-token"})

    assert (missing.status_code, missing.json()["code"]) == (401, "bearer_token_missing")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "operator_token_invalid")
    assert await in_force_version(linkage) == SHIPPED_VERSION
