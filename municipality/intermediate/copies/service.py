"""DBM 副本登録: registering copies pushed by the city's systems, and reading them back.

A batch is checked whole against the catalogue before anything is written, then written in the
request's one transaction: a bad row, a database fault half-way or a dropped connection leaves
the previous copies exactly as they were. Writing is set-based (one read of the copies the batch
touches, then one executemany per kind of change) because a whole city's batch is 150,000+ rows
and the ORM's per-row work would cost more than the database. A value that changes is kept in
`copy_revisions`: corrections are made in the source system and arrive with the next push.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from municipality.intermediate.copies.catalogue import CheckedBatch, ItemCatalogue, RowReport, check_rows
from municipality.intermediate.copies.catalogue import load_item_catalogue as load_item_catalogue  # for app.py
from municipality.intermediate.copies.models import Copy, CopyBatch, CopyRevision, ItemRefresh
from services.db import utc_now
from services.problems import DomainError, NotFound

Key = tuple[str, str, str]  # address number, item code, period


class CopyBatchRejected(DomainError):
    """The batch breaks the catalogue; nothing was registered."""

    status, title = 422, "Copy batch rejected"


class CopyBatchTooLarge(DomainError):
    status, title = 413, "Copy batch too large"


class CopyBatchNotWritten(DomainError):
    """The database failed half-way (disk full, a concurrent batch took a key first); the
    transaction was rolled back, so the source may simply send the batch again."""

    status, title = 503, "Copy batch not written"


@dataclass(frozen=True)
class CopyHistory:
    current: Copy
    revisions: list[CopyRevision]


async def register_copies(
    session: AsyncSession,
    catalogue: ItemCatalogue,
    source: str,
    rows: Sequence[Any],
    *,
    expected_rows: int | None = None,
    today: date | None = None,
) -> CopyBatch:
    """副本登録: check a source's batch, then insert new copies and replace changed ones (keeping
    the replaced values). Raises before writing anything when any row is refused."""
    if len(rows) > catalogue.max_batch_rows:
        raise CopyBatchTooLarge(
            "copy_batch_too_large",
            f"{len(rows):,} rows; a batch may hold at most {catalogue.max_batch_rows:,}. Nothing was registered.",
            rows=len(rows),
            max_rows=catalogue.max_batch_rows,
        )
    if source not in catalogue.sources:
        raise CopyBatchRejected("unknown_source", f"{source} is not a source system of this city's catalogue.")
    if expected_rows is not None and expected_rows != len(rows):
        raise CopyBatchRejected(
            "copy_batch_incomplete",
            f"The source meant to send {expected_rows:,} rows and {len(rows):,} arrived. Nothing was registered.",
            rows=len(rows),
            expected_rows=expected_rows,
        )
    checked, report = check_rows(catalogue, source, rows, today or date.today())
    if report.count:
        raise _rejected(report, len(rows))
    now = utc_now()
    batch = CopyBatch(
        source=source,
        item_codes=sorted(checked.items),
        rows_received=len(rows),
        inserted=0,
        updated=0,
        unchanged=0,
        registered_at=now,
    )
    try:
        # The batch record first: on SQLite this takes the write lock before the copies are read,
        # so no other batch can change them between our read and our write.
        session.add(batch)
        await session.flush()
        await _write(session, batch, checked, now)
        await session.flush()
    except DBAPIError as exc:
        raise CopyBatchNotWritten(
            "copy_batch_not_written",
            "The database failed while writing the batch; nothing was registered. Send the batch again.",
        ) from exc
    return batch


def _rejected(report: RowReport, rows: int) -> CopyBatchRejected:
    shown = f" (the first {len(report.errors)} are listed)" if report.count > len(report.errors) else ""
    return CopyBatchRejected(
        "copy_batch_rejected",
        f"{report.count:,} problems in {rows:,} rows{shown}; nothing was registered.",
        error_count=report.count,
        errors=report.errors,
    )


async def _write(session: AsyncSession, batch: CopyBatch, checked: CheckedBatch, now: datetime) -> None:
    """Compare each row with the copy held for its key, in the database's own storage form (no
    parsing of what is held), then write each kind of change with one executemany."""
    connection = await session.connection()
    sql = _Sql(connection)
    held = await _held_copies(sql, {(code, period) for code, item in checked.items.items() for period in item.periods})
    now_value, batch_id = sql.put_datetime(now), batch.id
    stored_dates = {as_of: sql.put_date(as_of) for as_of in set(checked.as_ofs)}
    as_of_values = list(map(stored_dates.__getitem__, checked.as_ofs))
    encoded_values = _json_texts(checked.values)
    inserts: Iterable[tuple[Any, ...]]
    updates: list[tuple[Any, ...]] = []
    revisions: list[tuple[Any, ...]] = []
    refreshes: list[tuple[Any, ...]] = []
    stale = RowReport()
    if not held:  # a new period: every row is new, so no per-row comparison at all
        inserts, inserted = (
            zip(
                checked.address_numbers,
                checked.item_codes,
                checked.periods,
                encoded_values,
                as_of_values,
                repeat(now_value),
                repeat(batch_id),
                strict=False,  # the repeats are endless
            ),
            len(checked),
        )
    else:
        new: list[tuple[Any, ...]] = []
        same_value = sql.same_value
        rows = zip(checked.rows(), encoded_values, as_of_values, strict=True)
        for index, ((address_number, item_code, period, value, _as_of), encoded, as_of_value) in enumerate(rows):
            old = held.get((address_number, item_code, period))
            if old is None:
                new.append((address_number, item_code, period, encoded, as_of_value, now_value, batch_id))
                continue
            old_id, old_value, old_as_of, old_registered_at, old_batch_id = old
            if as_of_value < old_as_of:
                stale.add(index, "as_of", "as_of_older_than_held", "The copy held here is newer than this row.")
            elif same_value(old_value, value, encoded):
                if as_of_value != old_as_of:  # the same value, confirmed at a later date
                    refreshes.append((as_of_value, now_value, batch_id, old_id))
            else:
                updates.append((encoded, as_of_value, now_value, batch_id, old_id))
                revisions.append(
                    (
                        address_number,
                        item_code,
                        period,
                        sql.restore_value(old_value),
                        old_as_of,
                        old_registered_at,
                        old_batch_id,
                        now_value,
                        batch_id,
                    )
                )
        inserts, inserted = new, len(new)
    if stale.count:
        # No row was refused above, so `checked` is the batch in order and these are its indexes.
        raise _rejected(stale, batch.rows_received)
    copy_columns = "address_number, item_code, period, value, as_of, registered_at, batch_id"
    await sql.executemany(f"INSERT INTO copies ({copy_columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", inserts)  # noqa: S608
    if revisions:
        await sql.executemany(
            "INSERT INTO copy_revisions (address_number, item_code, period, value, as_of, registered_at,"
            " batch_id, replaced_at, replaced_by_batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            revisions,
        )
    if updates:
        await sql.executemany(
            "UPDATE copies SET value = ?, as_of = ?, registered_at = ?, batch_id = ? WHERE id = ?", updates
        )
    if refreshes:
        await sql.executemany("UPDATE copies SET as_of = ?, registered_at = ?, batch_id = ? WHERE id = ?", refreshes)
    batch.inserted, batch.updated = inserted, len(updates)
    batch.unchanged = len(checked) - inserted - len(updates)
    await _record_refreshes(session, batch, checked, now)


def _json_texts(values: list[int | str | bool]) -> list[str]:
    """Each value as the JSON text the column stores. Integers (most copies) are their own JSON
    text: a column of them is converted without json.dumps' per-call cost."""
    if set(map(type, values)) == {int}:
        return list(map(str, values))
    return [str(value) if type(value) is int else json.dumps(value) for value in values]


async def _held_copies(sql: _Sql, item_periods: set[tuple[str, str]]) -> dict[Key, tuple[Any, ...]]:
    """(id, value, as_of, registered_at, batch_id) as stored, of the copies a batch may replace:
    one pass per 50 (item, period) pairs (a batch has a handful, e.g. a tax year of two items).
    They stay locked until the batch commits, so two batches cannot both replace one value."""
    held: dict[Key, tuple[Any, ...]] = {}
    pairs = sorted(item_periods)
    for start in range(0, len(pairs), 50):
        chunk = pairs[start : start + 50]
        where = " OR ".join("(item_code = ? AND period = ?)" for _ in chunk)
        statement = (
            "SELECT address_number, item_code, period, id, value, as_of, registered_at, batch_id"  # noqa: S608
            f" FROM copies WHERE {where}"
        )
        if not sql.sqlite:  # SQLite already holds the write lock; PostgreSQL locks just these rows
            statement += " FOR UPDATE"
        for row in await sql.fetch(statement, [part for pair in chunk for part in pair]):
            held[(row[0], row[1], row[2])] = tuple(row[3:])
    return held


async def _record_refreshes(session: AsyncSession, batch: CopyBatch, checked: CheckedBatch, now: datetime) -> None:
    for item_code, item in checked.items.items():
        refresh = await session.get(ItemRefresh, item_code)
        if refresh is None:
            refresh = ItemRefresh(item_code=item_code)
            session.add(refresh)
        refresh.last_registered_at, refresh.last_batch_id = now, batch.id
        refresh.latest_as_of, refresh.rows = item.newest_as_of, item.rows


class _Sql:
    """Driver-level statements for whole batches (SQLite `?` or PostgreSQL `$n` parameters), with
    values in the form each driver stores and returns for our column types."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"

    def _native(self, statement: str) -> str:
        if self.sqlite:
            return statement
        counter = iter(range(1, 10_000))
        return re.sub(r"\?", lambda _m: f"${next(counter)}", statement)

    async def executemany(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """`statement` once for each of `rows`, handed to the driver's cursor as they come.
        SQLAlchemy's own executemany takes only a list, and a whole city's batch made into a list
        of 150,000 parameter tuples (then freed) cost ~70 ms of a ~0.9 s registration (measured)."""
        native = self._native(statement)

        def execute(connection: Connection) -> None:
            dbapi = connection.dialect.loaded_dbapi
            cursor = connection.connection.cursor()
            try:
                cursor.executemany(native, rows)  # type: ignore[arg-type]  # sqlite3 and asyncpg take any iterable
            except dbapi.Error as exc:  # wrapped as SQLAlchemy wraps a driver's error for any statement
                raise DBAPIError.instance(native, None, exc, dbapi.Error, dialect=connection.dialect) from exc
            finally:
                cursor.close()

        await self.connection.run_sync(execute)

    async def fetch(self, statement: str, parameters: list[Any]) -> Sequence[Any]:
        result = await self.connection.exec_driver_sql(self._native(statement), tuple(parameters))
        return result.all()

    def put_date(self, value: date) -> Any:
        """SQLite holds dates as ISO text, which orders as the dates do."""
        return value.isoformat() if self.sqlite else value

    def put_datetime(self, value: datetime) -> Any:
        """SQLite holds SQLAlchemy's text form (UTC, no zone)."""
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def same_value(self, held: Any, value: Any, encoded: str) -> bool:
        """SQLite returns the JSON text, except that its JSON column has numeric affinity and
        keeps an integer's text as an integer; asyncpg returns the value decoded (True == 1 in
        Python, hence the type check)."""
        if self.sqlite:
            return held == encoded if type(held) is str else str(held) == encoded
        return type(held) is type(value) and held == value

    def restore_value(self, held: Any) -> Any:
        """A held value as a parameter for a JSON column again."""
        return held if self.sqlite else json.dumps(held)


async def latest_copies(session: AsyncSession, address_number: str, item_codes: Iterable[str]) -> list[Copy]:
    """The most recent period of each requested item the city holds for this person."""
    rows = (
        await session.scalars(
            select(Copy)
            .where(Copy.address_number == address_number, Copy.item_code.in_(list(item_codes)))
            .order_by(Copy.item_code, Copy.period.desc())
        )
    ).all()
    latest: dict[str, Copy] = {}
    for row in rows:
        latest.setdefault(row.item_code, row)
    return list(latest.values())


async def copy_history(session: AsyncSession, address_number: str, item_code: str) -> list[CopyHistory]:
    """A person's copies of one item, each period with the values it replaced (oldest first)."""
    copies = (
        await session.scalars(
            select(Copy)
            .where(Copy.address_number == address_number, Copy.item_code == item_code)
            .order_by(Copy.period.desc())
        )
    ).all()
    if not copies:
        raise NotFound("copy_not_found", "This server holds no copy of that item for that address number.")
    revisions = (
        await session.scalars(
            select(CopyRevision)
            .where(CopyRevision.address_number == address_number, CopyRevision.item_code == item_code)
            .order_by(CopyRevision.id)
        )
    ).all()
    by_period: dict[str, list[CopyRevision]] = {}
    for revision in revisions:
        by_period.setdefault(revision.period, []).append(revision)
    return [CopyHistory(copy, by_period.get(copy.period, [])) for copy in copies]


async def recent_batches(session: AsyncSession, limit: int) -> list[CopyBatch]:
    return list((await session.scalars(select(CopyBatch).order_by(CopyBatch.id.desc()).limit(limit))).all())


@dataclass(frozen=True)
class Freshness:
    item_code: str
    refresh: ItemRefresh | None
    due_by: datetime | None
    overdue: bool


async def item_freshness(session: AsyncSession, catalogue: ItemCatalogue, now: datetime) -> list[Freshness]:
    """Each catalogue item's last push against its schedule. An item never pushed is overdue
    unless it changes only on events; an on-change item is never overdue."""
    refreshes = {r.item_code: r for r in (await session.scalars(select(ItemRefresh))).all()}
    view: list[Freshness] = []
    for code, item in catalogue.items.items():
        refresh = refreshes.get(code)
        allowed = catalogue.allowed_age(item)
        if allowed is None:
            view.append(Freshness(code, refresh, None, False))
        elif refresh is None:
            view.append(Freshness(code, None, None, True))
        else:
            due_by = refresh.last_registered_at + allowed
            view.append(Freshness(code, refresh, due_by, now > due_by))
    return view
