"""DBM copy registration (副本登録), over HTTP on the in-process linkage network: a batch from the
city's systems is checked whole against the item catalogue and written whole; a bad row, an upload
cut off half-way or a database fault half-way leaves the previous copies exactly as they were.
A value registered again replaces the answer and keeps the old one in its history."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Connection
from starlette.types import Message, Scope

from municipality.intermediate.copies.models import Copy, CopyBatch, ItemRefresh
from services.db import utc_now
from services.signing import RequestSigner
from tests.unit.linkage_fixture import HIGASHIMURAYAMA, KODAIRA, OPERATOR, City, Linkage, Mover, stored_text

TAX = "individual_resident_tax"


def today() -> date:
    """Read at each use: a run that crosses midnight must not compare two different days."""
    return date.today()


async def push(
    linkage: Linkage,
    copies: list[Any],
    *,
    source: str = TAX,
    sent_by: City = KODAIRA,
    expected_rows: int | None = None,
) -> httpx.Response:
    """POST /copies to 小平市's intermediate server, signed by `sent_by`'s city systems."""
    body: dict[str, Any] = {"source": source, "copies": copies}
    if expected_rows is not None:
        body["expected_rows"] = expected_rows
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=sent_by.city_host) as client:
        return await client.post("/copies", json=body)


async def operator_get(linkage: Linkage, path: str) -> httpx.Response:
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        return await client.get(path, headers=OPERATOR)


async def history(linkage: Linkage, address_number: str, item_code: str) -> httpx.Response:
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        body = {"address_number": address_number, "item_code": item_code}
        return await client.post("/copies/history", json=body, headers=OPERATOR)


def row(address_number: str, item_code: str, value: Any, period: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "address_number": address_number,
        "item_code": item_code,
        "period": period or str(today().year - 1),
        "value": value,
        "as_of": today().isoformat(),
        **extra,
    }


def address(n: int) -> str:
    """Synthetic address numbers of people 小平市 holds copies on (rule 10: none is real)."""
    return f"{900_000_000_000_000 + n:015d}"


def income_rows(count: int, base: int = 1_000_000, start: int = 0) -> list[dict[str, Any]]:
    return [row(address(start + n), "tax.taxable_income", base + n) for n in range(count)]


async def copies_held(linkage: Linkage) -> dict[tuple[str, str, str], Any]:
    """(address number, item, period) → value, for every copy 小平市's intermediate server holds."""
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        rows = await session.scalars(select(Copy))
        return {(r.address_number, r.item_code, r.period): r.value for r in rows}


async def batch_count(linkage: Linkage) -> int:
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CopyBatch)) or 0)


def rejected(response: httpx.Response, status: int = 422, code: str = "copy_batch_rejected") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


async def staff_answer(linkage: Linkage, mover: Mover) -> dict[str, dict[str, Any]]:
    """What 東村山市's child-allowance staff are told about the mover's income by 小平市."""
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert response.status_code == 200, response.text
    return {item["item_code"]: item for item in response.json()["items"]}


# --- refused batches leave everything as it was ----------------------------------------------


async def test_copy_batch_with_an_unknown_item_is_refused_whole_and_earlier_copies_stay(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    kodaira = mover.address_numbers["kodaira"]
    before = await copies_held(linkage)

    response = await push(
        linkage,
        [
            row(kodaira, "tax.taxable_income", 9_999_999),
            row(kodaira, "tax.church_tax", 1),
            row(kodaira, "tax.exemption_status", True),
        ],
    )

    problem = rejected(response)
    assert problem["error_count"] == 1
    assert problem["errors"] == [
        {
            "index": 1,
            "field": "item_code",
            "code": "unknown_item",
            "message": "The item is not in the catalogue (items.yaml).",
        }
    ]
    assert await copies_held(linkage) == before
    assert before == {
        (kodaira, "tax.taxable_income", str(mover.tax_year)): mover.taxable_income,
        (kodaira, "tax.income_levy", str(mover.tax_year)): mover.income_levy,
    }
    answered = await staff_answer(linkage, mover)
    assert answered["tax.taxable_income"]["value"] == mover.taxable_income


@pytest.mark.parametrize(
    ("period", "code"),
    [
        (str(today().year + 1), "tax_year_not_kept"),
        (str(today().year - 6), "tax_year_not_kept"),
        ("R7", "period_invalid"),
        (f"{today().year - 1}-04", "period_invalid"),
    ],
)
async def test_copy_of_a_tax_year_not_kept_is_refused(linkage: Linkage, period: str, code: str) -> None:
    response = await push(linkage, [*income_rows(2), row(address(9), "tax.income_levy", 1, period=period)])

    problem = rejected(response)
    assert [(e["index"], e["field"], e["code"]) for e in problem["errors"]] == [(2, "period", code)]
    assert await copies_held(linkage) == {}


async def test_every_kept_tax_year_is_accepted(linkage: Linkage) -> None:
    years = [str(year) for year in range(today().year - 5, today().year + 1)]

    response = await push(linkage, [row(address(1), "tax.taxable_income", 100, period=year) for year in years])

    assert response.status_code == 200, response.text
    assert sorted(period for _a, _i, period in await copies_held(linkage)) == years


async def test_oversized_batch_is_refused_before_any_row_is_read(linkage: Linkage) -> None:
    app = linkage.network.apps[KODAIRA.intermediate_host]
    app.state.item_catalogue = dataclasses.replace(app.state.item_catalogue, max_batch_rows=100)

    response = await push(linkage, income_rows(101))

    problem = rejected(response, 413, "copy_batch_too_large")
    assert (problem["rows"], problem["max_rows"]) == (101, 100)
    assert await copies_held(linkage) == {}
    assert (await push(linkage, income_rows(100))).status_code == 200


async def test_duplicate_rows_in_one_batch_are_refused(linkage: Linkage) -> None:
    rows = income_rows(5)
    rows.append({**rows[1], "value": 7})

    problem = rejected(await push(linkage, rows))

    assert problem["errors"] == [
        {
            "index": 5,
            "field": "",
            "code": "duplicate_row",
            "message": "Row 1 already carries this address number, item and period.",
        }
    ]
    assert await copies_held(linkage) == {}


@pytest.mark.parametrize(
    "household",
    ["世帯主・妻 123456789012", "番号 1234-5678-9012", "番号１２３４　５６７８　９０１２", "x1234.5678.9012x"],
)
async def test_copy_carrying_a_number_like_string_in_free_text_is_refused(linkage: Linkage, household: str) -> None:
    rows = [
        row(address(1), "resident.household", "世帯主・妻・子", period=today().isoformat()),
        row(address(2), "resident.household", household, period=today().isoformat()),
    ]

    problem = rejected(await push(linkage, rows, source="resident_registry"))

    assert [(e["index"], e["field"], e["code"]) for e in problem["errors"]] == [(1, "value", "number_like_text")]
    assert household not in str(problem), "a refusal must not echo the refused value"
    assert await copies_held(linkage) == {}


async def test_short_numbers_in_free_text_are_accepted(linkage: Linkage) -> None:
    rows = [row(address(1), "resident.household", "世帯主・子2人（2024年転入）", period=today().isoformat())]

    response = await push(linkage, rows, source="resident_registry")

    assert response.status_code == 200, response.text


async def test_rows_carrying_fields_outside_the_schema_are_refused(linkage: Linkage) -> None:
    rows = [*income_rows(2), row(address(3), "tax.taxable_income", 5, name="山田太郎", birth_date="1980-01-01")]

    problem = rejected(await push(linkage, rows))

    assert sorted((e["index"], e["field"], e["code"]) for e in problem["errors"]) == [
        (2, "birth_date", "unexpected_field"),
        (2, "name", "unexpected_field"),
    ]
    assert "山田太郎" not in str(await stored_text(linkage.database(KODAIRA.intermediate_host)))


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [
        ({"value": -1}, "value", "value_out_of_range"),
        ({"value": 100_000_000_000}, "value", "value_out_of_range"),
        ({"value": "1000"}, "value", "value_type"),
        ({"value": True}, "value", "value_type"),
        ({"address_number": "12345"}, "address_number", "invalid"),
        ({"as_of": "2025/01/01"}, "as_of", "invalid"),
        ({"as_of": (today() + timedelta(days=3)).isoformat()}, "as_of", "as_of_in_future"),
        ({"item_code": "welfare.protection_status"}, "item_code", "item_not_from_source"),
    ],
)
async def test_malformed_row_in_the_middle_of_a_batch_is_reported_and_nothing_is_written(
    linkage: Linkage, bad: dict[str, Any], field: str, code: str
) -> None:
    await push(linkage, income_rows(3))
    before = await copies_held(linkage)
    rows = income_rows(1_000, base=2_000_000)
    rows[500] = {**rows[500], **bad}

    problem = rejected(await push(linkage, rows))

    assert [(e["index"], e["field"], e["code"]) for e in problem["errors"]] == [(500, field, code)]
    assert await copies_held(linkage) == before
    assert await batch_count(linkage) == 1


async def test_a_batch_body_that_is_not_json_is_refused_as_an_invalid_request(linkage: Linkage) -> None:
    body = json.dumps({"source": TAX, "copies": income_rows(3)}).encode()
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=KODAIRA.city_host) as client:
        response = await client.post("/copies", content=body[:-20], headers={"content-type": "application/json"})

    problem = rejected(response, code="invalid_request")
    assert [e["type"] for e in problem["errors"]] == ["json_invalid"]
    assert await copies_held(linkage) == {}


async def test_report_names_every_bad_row_up_to_a_cap_and_counts_them_all(linkage: Linkage) -> None:
    rows: list[Any] = income_rows(400)
    for index in range(0, 400, 2):
        rows[index] = {**rows[index], "value": -5}
    rows[1] = "not an object"

    problem = rejected(await push(linkage, rows))

    assert problem["error_count"] == 201
    assert len(problem["errors"]) == 100
    assert problem["errors"][:2] == [
        {
            "index": 0,
            "field": "value",
            "code": "value_out_of_range",
            "message": "The value must be between 0 and 99999999999.",
        },
        {"index": 1, "field": "", "code": "row_not_object", "message": "Each copy must be a JSON object."},
    ]
    assert "first 100" in problem["detail"]


async def test_batch_shorter_than_the_source_declared_is_refused(linkage: Linkage) -> None:
    problem = rejected(await push(linkage, income_rows(10), expected_rows=12), code="copy_batch_incomplete")

    assert (problem["rows"], problem["expected_rows"]) == (10, 12)
    assert await copies_held(linkage) == {}


async def test_unknown_source_system_is_refused(linkage: Linkage) -> None:
    rejected(await push(linkage, income_rows(1), source="church_register"), code="unknown_source")

    assert await copies_held(linkage) == {}


async def test_another_citys_systems_may_not_register_copies_here(linkage: Linkage) -> None:
    response = await push(linkage, income_rows(1), sent_by=HIGASHIMURAYAMA)

    assert response.status_code == 403
    assert response.json()["code"] == "caller_not_permitted"
    assert await copies_held(linkage) == {}


async def test_upload_cut_off_half_way_registers_nothing(linkage: Linkage) -> None:
    """The source's connection drops after half the body: the server never sees a whole batch."""
    await push(linkage, income_rows(3))
    before = await copies_held(linkage)
    body = httpx.Request("POST", "http://x", json={"source": TAX, "copies": income_rows(2_000, base=5)}).content
    signer = RequestSigner(linkage.network.runtime(KODAIRA.city_host).keys)
    request = httpx.Request("POST", f"http://{KODAIRA.intermediate_host}/copies", content=body)
    request.headers["content-type"] = "application/json"
    request = next(signer.auth_flow(request))
    chunks: list[Message] = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": (KODAIRA.intermediate_host, 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "path": "/copies",
        "raw_path": b"/copies",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.items()],
    }

    await linkage.network.apps[KODAIRA.intermediate_host](scope, receive, send)

    [start] = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] >= 400  # to a source that is gone: it will send the batch again
    assert await copies_held(linkage) == before
    assert await batch_count(linkage) == 1
    assert (await push(linkage, income_rows(2_000, base=5))).status_code == 200, "the server is fine afterwards"


async def test_database_fault_half_way_through_the_write_rolls_the_whole_batch_back(linkage: Linkage) -> None:
    """A real fault inside the database after 1,000 rows of the batch were written (a trigger
    stands in for a full disk): the transaction rolls back and the old copies stay."""
    first = await push(linkage, income_rows(1_000))
    assert first.status_code == 200, first.text
    before = await copies_held(linkage)
    database = linkage.database(KODAIRA.intermediate_host)
    async with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(
                "CREATE TRIGGER fail_mid_batch BEFORE INSERT ON copies "
                f"WHEN NEW.address_number = '{address(1_999)}' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            await connection.exec_driver_sql(
                "CREATE FUNCTION fail_mid_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.address_number = '{address(1_999)}' THEN RAISE EXCEPTION 'disk full'; END IF; "
                "RETURN NEW; END $$"
            )
            await connection.exec_driver_sql(
                "CREATE TRIGGER fail_mid_batch BEFORE INSERT ON copies FOR EACH ROW EXECUTE FUNCTION fail_mid_batch()"
            )
    # 1,000 corrections (updates plus their history) and 1,500 new copies; the fault hits the 1,000th new one.
    rows = income_rows(1_000, base=3_000_000) + income_rows(1_500, base=4_000_000, start=1_000)

    problem = rejected(await push(linkage, rows), 503, "copy_batch_not_written")

    assert "nothing was registered" in problem["detail"]
    assert await copies_held(linkage) == before
    assert await batch_count(linkage) == 1
    async with database.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM copy_revisions")) == 0


# --- accepted batches -------------------------------------------------------------------------


async def test_registering_a_copy_again_replaces_its_answer_and_keeps_the_old_value(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    kodaira, year = mover.address_numbers["kodaira"], str(mover.tax_year)

    response = await push(linkage, [row(kodaira, "tax.taxable_income", 5_123_456)])

    assert response.status_code == 200, response.text
    assert response.json() | {"batch_id": 0, "registered_at": ""} == {
        "batch_id": 0,
        "registered": 1,
        "inserted": 0,
        "updated": 1,
        "unchanged": 0,
        "registered_at": "",
    }
    assert (await staff_answer(linkage, mover))["tax.taxable_income"]["value"] == 5_123_456
    held = (await history(linkage, kodaira, "tax.taxable_income")).json()
    [period] = held["periods"]
    assert (period["period"], period["value"], period["batch_id"]) == (year, 5_123_456, response.json()["batch_id"])
    [revision] = period["revisions"]
    assert revision["value"] == mover.taxable_income
    assert revision["replaced_by_batch_id"] == response.json()["batch_id"]


async def test_correction_in_the_tax_system_flows_to_the_copy_on_the_next_push_and_is_kept(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    code, year = mover.resident["resident_code"], mover.tax_year

    for income in (3_000_000, 3_100_000):
        response = await linkage.assess_tax(KODAIRA, code, year, income, income // 10)
        assert response.status_code == 200, response.text

    answered = await staff_answer(linkage, mover)
    assert {k: v["value"] for k, v in answered.items()} == {"tax.taxable_income": 3_100_000, "tax.income_levy": 310_000}
    held = (await history(linkage, mover.address_numbers["kodaira"], "tax.taxable_income")).json()
    [period] = held["periods"]
    assert [r["value"] for r in period["revisions"]] == [mover.taxable_income, 3_000_000]
    assert period["value"] == 3_100_000


async def test_city_tax_push_for_a_year_not_kept_is_refused_and_the_city_keeps_nothing(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    response = await linkage.assess_tax(KODAIRA, mover.resident["resident_code"], today().year - 10, 1_000, 100)

    assert response.status_code == 422
    assert response.json()["code"] == "copy_batch_rejected"
    async with linkage.database(KODAIRA.city_host).sessions() as session:
        years = await session.scalars(text("SELECT tax_year FROM tax_assessments"))
        assert list(years) == [mover.tax_year]


async def test_an_older_push_does_not_overwrite_a_newer_copy(linkage: Linkage) -> None:
    await push(linkage, income_rows(3, base=500))
    stale = [{**r, "as_of": (today() - timedelta(days=2)).isoformat()} for r in income_rows(3, base=100)]

    problem = rejected(await push(linkage, stale))

    assert {(e["index"], e["code"]) for e in problem["errors"]} == {(i, "as_of_older_than_held") for i in range(3)}
    assert sorted((await copies_held(linkage)).values()) == [500, 501, 502]


async def test_each_batch_is_recorded_with_what_it_changed(linkage: Linkage) -> None:
    await push(linkage, income_rows(4))
    rows = income_rows(4)
    rows[0]["value"] = 42
    rows.append(row(address(10), "tax.income_levy", 9))
    second = await push(linkage, rows)
    assert second.status_code == 200, second.text

    response = await operator_get(linkage, "/copies/batches")

    assert response.status_code == 200, response.text
    newest, oldest = response.json()
    assert newest["batch_id"] == second.json()["batch_id"]
    assert {k: newest[k] for k in ("source", "item_codes", "rows", "inserted", "updated", "unchanged")} == {
        "source": TAX,
        "item_codes": ["tax.income_levy", "tax.taxable_income"],
        "rows": 5,
        "inserted": 1,
        "updated": 1,
        "unchanged": 3,
    }
    assert (oldest["inserted"], oldest["updated"]) == (4, 0)


async def test_operator_views_need_the_operator_token(linkage: Linkage) -> None:
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        for response in (
            await client.get("/copies/batches"),
            await client.get("/copies/freshness", headers={"Authorization": "Bearer wrong"}),
            await client.post("/copies/history", json={"address_number": address(1), "item_code": "tax.income_levy"}),
        ):
            assert response.status_code == 401


# --- staleness --------------------------------------------------------------------------------


async def test_freshness_view_flags_items_pushed_later_than_their_schedule(linkage: Linkage) -> None:
    await push(linkage, income_rows(3))
    await push(linkage, [row(address(1), "tax.income_levy", 3)])
    month = f"{today().year}-{today().month:02d}"
    await push(linkage, [row(address(1), "welfare.protection_status", "receiving", period=month)], source="welfare")
    await push(
        linkage,
        [row(address(1), "nhi.enrollment", "enrolled", period=today().isoformat())],
        source="national_health_insurance",
    )
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        for item_code, days in (("tax.taxable_income", 2), ("welfare.protection_status", 20), ("nhi.enrollment", 400)):
            await session.execute(
                update(ItemRefresh)
                .where(ItemRefresh.item_code == item_code)
                .values(last_registered_at=utc_now() - timedelta(days=days))
            )
        await session.commit()

    response = await operator_get(linkage, "/copies/freshness")

    assert response.status_code == 200, response.text
    view = response.json()
    items = {item["item_code"]: item for item in view["items"]}
    assert set(items) == {
        "tax.taxable_income",
        "tax.income_levy",
        "tax.exemption_status",
        "resident.household",
        "welfare.protection_status",
        "child_allowance.payment",
        "nhi.enrollment",
    }
    # daily, pushed 2 days ago; daily and monthly, never pushed
    assert sorted(view["overdue_items"]) == [
        "child_allowance.payment",
        "resident.household",
        "tax.exemption_status",
        "tax.taxable_income",
    ]
    assert (items["tax.taxable_income"]["schedule"], items["tax.taxable_income"]["rows"]) == ("daily", 3)
    assert items["tax.taxable_income"]["latest_as_of"] == today().isoformat()
    assert items["tax.income_levy"]["overdue"] is False  # daily, pushed now
    assert items["welfare.protection_status"]["overdue"] is False  # monthly, pushed 20 days ago
    assert items["nhi.enrollment"] | {"last_registered_at": None} == {
        **items["nhi.enrollment"],
        "due_by": None,
        "overdue": False,  # on change only
        "last_registered_at": None,
    }
    assert items["resident.household"]["last_registered_at"] is None


async def test_answers_carry_the_sources_date_so_the_requester_sees_the_lag(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    source_date = (today() - timedelta(days=3)).isoformat()
    kodaira = mover.address_numbers["kodaira"]
    await push(linkage, [row(kodaira, "tax.exemption_status", False, as_of=source_date)])
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    response = await linkage.staff_query(
        HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"], items=["tax.exemption_status"]
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert (item["item_code"], item["value"], item["as_of"]) == ("tax.exemption_status", False, source_date)


# --- rule 1 -----------------------------------------------------------------------------------

BASIC_FOUR = ("name", "address", "sex", "gender", "birth", "dob", "kana", "氏名", "住所", "性別", "生年月日")


async def test_copy_tables_have_no_column_for_a_number_or_the_basic_four(linkage: Linkage) -> None:
    await push(linkage, income_rows(10))

    def columns(connection: Connection) -> dict[str, list[str]]:
        inspector = inspect(connection)
        return {
            table: [c["name"] for c in inspector.get_columns(table)]
            for table in inspector.get_table_names()
            if table.startswith("cop")
        }

    async with linkage.database(KODAIRA.intermediate_host).engine.connect() as connection:
        tables = await connection.run_sync(columns)
    assert set(tables) == {"copies", "copy_revisions", "copy_batches", "copy_item_refreshes"}
    flagged = [
        f"{table}.{column}"
        for table, names in tables.items()
        for column in names
        if column != "address_number" and any(word in column for word in BASIC_FOUR)
    ]
    assert flagged == []
    assert not any("number" in c and c != "address_number" for names in tables.values() for c in names)
