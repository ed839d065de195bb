"""SYM retention and disposal: expired copies go only on an approved disposal, which leaves a
record of what went and on whose approval. The staff access log is touched only past its own
retention, and then erased rather than deleted, so it still verifies against its anchors."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select, update

from municipality.intermediate.access_log.models import StaffAccess
from municipality.intermediate.copies.catalogue import load_item_catalogue
from municipality.intermediate.copies.models import Copy, CopyRevision
from municipality.intermediate.disposal.service import RETENTION_FILE, RetentionError, load_retention
from services.db import utc_now
from services.log_audit import AuditFailure
from tests.unit.linkage_fixture import KODAIRA, OPERATOR, Linkage, bearer
from tests.unit.municipality.test_access_log_anchors import anchor_now, audit, log_accesses
from tests.unit.municipality.test_approvals import asked, call, decide

CITY = KODAIRA
A, B = "100000000000001", "100000000000002"
THIS_YEAR = date.today().year
OLD_TAX_YEAR, KEPT_TAX_YEAR = str(THIS_YEAR - 6), str(THIS_YEAR - 5)  # items.yaml keeps this year and five before


def copy(address_number: str, item_code: str, period: str, value: Any) -> Copy:
    return Copy(
        address_number=address_number,
        item_code=item_code,
        period=period,
        value=value,
        as_of=date.today(),
        registered_at=utc_now(),
        batch_id=1,
    )


async def held_copies(linkage: Linkage) -> set[tuple[str, str, str]]:
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        rows = (await session.execute(select(Copy.address_number, Copy.item_code, Copy.period))).all()
    return {(a, i, p) for a, i, p in rows}


async def held_revisions(linkage: Linkage) -> set[str]:
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        return set((await session.scalars(select(CopyRevision.period))).all())


async def hold_old_and_new_copies(linkage: Linkage) -> None:
    """Copies inserted directly: a source system could no longer push the expired ones."""
    old_date, new_date = f"{THIS_YEAR - 8}-04-01", f"{THIS_YEAR - 1}-04-01"
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        session.add_all(
            [
                copy(A, "tax.taxable_income", OLD_TAX_YEAR, 3_000_000),
                copy(A, "tax.taxable_income", KEPT_TAX_YEAR, 3_100_000),
                copy(A, "welfare.protection_status", f"{THIS_YEAR - 6}-01", "receiving"),
                copy(A, "welfare.protection_status", f"{THIS_YEAR - 1}-06", "not_receiving"),
                copy(A, "nhi.enrollment", old_date, "enrolled"),  # still A's current state
                copy(B, "nhi.enrollment", old_date, "enrolled"),
                copy(B, "nhi.enrollment", new_date, "withdrawn"),
            ]
        )
        for period, replaced_at in ((OLD_TAX_YEAR, utc_now()), (KEPT_TAX_YEAR, utc_now() - timedelta(days=30))):
            session.add(
                CopyRevision(
                    address_number=A,
                    item_code="tax.taxable_income",
                    period=period,
                    value=2_900_000,
                    as_of=date.today(),
                    registered_at=utc_now(),
                    batch_id=1,
                    replaced_at=replaced_at,
                    replaced_by_batch_id=1,
                )
            )
        await session.commit()


async def approved_disposal(linkage: Linkage) -> tuple[str, int]:
    """情報政策課 staff's token and their approved disposal."""
    staff = await linkage.staff_token(CITY, "joho-001", "情報政策課")
    chief = await linkage.staff_token(CITY, "joho-chief", "情報政策課", title="課長")
    approval_id = await asked(linkage, staff, "disposal", {})
    response = await decide(linkage, chief, approval_id)
    assert response.status_code == 200, response.text
    return staff, approval_id


async def dispose(linkage: Linkage, token: str, approval_id: int) -> httpx.Response:
    return await call(linkage, "POST", "/disposals", bearer(token), {"approval_id": approval_id})


async def test_a_disposal_removes_only_expired_copies_and_records_who_approved_it(linkage: Linkage) -> None:
    await hold_old_and_new_copies(linkage)
    staff, approval_id = await approved_disposal(linkage)

    response = await dispose(linkage, staff, approval_id)

    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["requested_by"], record["approved_by"], record["run_by"]) == ("joho-001", "joho-chief", "joho-001")
    assert (record["copies_deleted"], record["revisions_deleted"], record["access_log_entries_erased"]) == (3, 1, 0)
    assert {(i["item_code"], tuple(i["periods"]), i["copies"]) for i in record["items"]} == {
        ("tax.taxable_income", (OLD_TAX_YEAR,), 1),
        ("welfare.protection_status", (f"{THIS_YEAR - 6}-01",), 1),
        ("nhi.enrollment", (f"{THIS_YEAR - 8}-04-01",), 1),
    }
    assert await held_copies(linkage) == {
        (A, "tax.taxable_income", KEPT_TAX_YEAR),
        (A, "welfare.protection_status", f"{THIS_YEAR - 1}-06"),
        (A, "nhi.enrollment", f"{THIS_YEAR - 8}-04-01"),  # the latest of an on-change item stays
        (B, "nhi.enrollment", f"{THIS_YEAR - 1}-04-01"),
    }
    assert await held_revisions(linkage) == {KEPT_TAX_YEAR}
    listed = await call(linkage, "GET", "/disposals", OPERATOR)
    assert [r["disposal_id"] for r in listed.json()] == [record["disposal_id"]]


async def test_the_preview_shows_what_would_go_and_changes_nothing(linkage: Linkage) -> None:
    await hold_old_and_new_copies(linkage)

    response = await call(linkage, "GET", "/disposals/preview", OPERATOR)

    assert response.status_code == 200, response.text
    assert (response.json()["copies"], response.json()["revisions"]) == (3, 1)
    assert len(await held_copies(linkage)) == 7


async def test_no_disposal_without_an_approval_and_none_twice(linkage: Linkage) -> None:
    await hold_old_and_new_copies(linkage)
    staff = await linkage.staff_token(CITY, "joho-001", "情報政策課")
    chief = await linkage.staff_token(CITY, "joho-chief", "情報政策課", title="課長")
    approval_id = await asked(linkage, staff, "disposal", {})

    pending = await dispose(linkage, staff, approval_id)
    await decide(linkage, chief, approval_id)
    first = await dispose(linkage, staff, approval_id)
    second = await dispose(linkage, staff, approval_id)

    assert (pending.status_code, pending.json()["code"]) == (409, "approval_pending")
    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "approval_consumed")
    assert len((await call(linkage, "GET", "/disposals", OPERATOR)).json()) == 1


async def test_a_disposal_leaves_the_access_log_within_its_retention_untouched(linkage: Linkage) -> None:
    await hold_old_and_new_copies(linkage)
    reader = await linkage.staff_token(CITY, "kazei-001", "課税課")
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        viewed = await client.get(
            "/views/copies", params={"address_number": A, "item_codes": ["tax.taxable_income"]}, headers=bearer(reader)
        )
    assert viewed.status_code == 200, viewed.text
    before = await linkage.access_log(CITY)
    staff, approval_id = await approved_disposal(linkage)

    response = await dispose(linkage, staff, approval_id)

    assert response.status_code == 201, response.text
    after = await linkage.access_log(CITY)
    assert after == before
    assert after["intact"] is True and len(after["entries"]) == 1


async def logged_entries(linkage: Linkage) -> list[tuple[str | None, list[str] | None, int | None, str]]:
    """Each access log row's address number, items, erasing disposal and leaf hash, in leaf order."""
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        rows = await session.execute(
            select(
                StaffAccess.address_number, StaffAccess.item_codes, StaffAccess.erased_by, StaffAccess.leaf_hash
            ).order_by(StaffAccess.leaf_index)
        )
        return [(r.address_number, r.item_codes, r.erased_by, r.leaf_hash) for r in rows]


async def test_access_log_entries_past_their_retention_are_erased_and_the_log_still_verifies(
    linkage: Linkage, monkeypatch: pytest.MonkeyPatch
) -> None:
    eight_years_ago = utc_now() - timedelta(days=8 * 366)
    with monkeypatch.context() as clock:
        clock.setattr("municipality.intermediate.access_log.service.utc_now", lambda: eight_years_ago)
        await log_accesses(linkage, 3, city=CITY)
    await anchor_now(linkage, CITY)
    await log_accesses(linkage, 2, start=3, city=CITY)
    await anchor_now(linkage, CITY)
    before = await logged_entries(linkage)
    staff, approval_id = await approved_disposal(linkage)

    preview = await call(linkage, "GET", "/disposals/preview", OPERATOR)
    response = await dispose(linkage, staff, approval_id)

    assert preview.json()["access_log"] == {"retention_years": 7, "entries_to_erase": 3}
    assert response.status_code == 201, response.text
    assert response.json()["access_log_entries_erased"] == 3
    disposal_id = response.json()["disposal_id"]
    after = await logged_entries(linkage)
    assert after[:3] == [(None, None, disposal_id, leaf_hash) for _, _, _, leaf_hash in before[:3]]
    assert after[3:] == before[3:]
    assert (await linkage.access_log(CITY))["intact"] is True
    assert await audit(linkage, CITY) == (
        "all 5 entries are as logged (3 erased past retention) and extend 2 anchor(s) at the broker"
    )


async def test_an_entry_erased_out_of_turn_breaks_the_log(linkage: Linkage) -> None:
    """Only a prefix is ever erased: erasing one recent entry by hand, to hide it, shows."""
    await log_accesses(linkage, 3, city=CITY)
    await anchor_now(linkage, CITY)
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        await session.execute(
            update(StaffAccess)
            .where(StaffAccess.leaf_index == 1)
            .values(address_number=None, item_codes=None, erased_by=1)
        )
        await session.commit()

    log = await linkage.access_log(CITY)

    assert (log["intact"], log["first_broken_entry"]) == (False, log["entries"][1]["seq"])
    with pytest.raises(AuditFailure, match="marked erased after entries that are not"):
        await audit(linkage, CITY)


async def test_only_the_system_department_asks_for_a_disposal(linkage: Linkage) -> None:
    await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")

    response = await call(
        linkage, "POST", "/approvals", bearer(staff), {"action": "disposal", "details": {}, "reason": "整理"}
    )

    assert (response.status_code, response.json()["code"]) == (403, "action_not_permitted_for_role")


def test_the_retention_data_covers_every_catalogue_item() -> None:
    catalogue = load_item_catalogue()

    retention = load_retention(catalogue)

    assert set(retention.items) == set(catalogue.items)
    assert retention.access_log_years == 7
    assert retention.expired_before(catalogue, "tax.taxable_income", date(2026, 6, 1)) == "2021"


def test_retention_data_that_forgets_an_item_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(RETENTION_FILE.read_text(encoding="utf-8"))
    del raw["items"]["welfare.protection_status"]
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with pytest.raises(RetentionError, match=r"welfare\.protection_status"):
        load_retention(load_item_catalogue(), path)
