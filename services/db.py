"""Database plumbing: one async engine per service, SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Each service owns its own MetaData, so it creates only its own tables."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class KernelBase(DeclarativeBase):
    """Tables the kernel itself needs in every service's database (e.g. seen signature nonces)."""

    metadata = new_metadata()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use utc_now()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


async def bulk_insert(session: AsyncSession, model: type[DeclarativeBase], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows (values in column order) in one driver-level executemany.

    For whole-city batches: it skips the ORM's and the compiler's per-row work, which costs more
    than the database itself. Datetimes must be aware UTC; SQLite gets them in SQLAlchemy's format.
    """
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
    connection = await session.connection()
    sqlite = connection.dialect.name == "sqlite"
    columns = ", ".join(column.name for column in table.columns)
    count = len(table.columns)
    marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, count + 1))
    statement = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608 - names from our schema
    if sqlite:
        formatted: dict[datetime, str] = {}  # a batch shares few timestamps: format each once

        def sqlite_value(value: Any) -> Any:
            if isinstance(value, datetime):
                if value not in formatted:
                    formatted[value] = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                return formatted[value]
            return value

        rows = [tuple(sqlite_value(value) for value in row) for row in rows]
    await connection.exec_driver_sql(statement, [tuple(row) for row in rows])


async def append_in_order(
    database: Database, add_next: Callable[[AsyncSession], Awaitable[None]], *, log: str, attempts: int = 20
) -> None:
    """Append rows whose place depends on the rows before them (the next index, the previous
    hash), in a transaction of their own. On PostgreSQL a transaction-scoped advisory lock per log
    makes concurrent writers (also on other replicas) take turns; elsewhere, and as a safety net,
    a unique constraint on that place makes one of two concurrent writers fail to commit, and it
    runs `add_next` again on the new head."""
    lock_key = int.from_bytes(hashlib.sha256(log.encode()).digest()[:8], "big", signed=True)
    for _attempt in range(attempts):
        async with database.sessions() as session:
            if database.engine.dialect.name == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            await add_next(session)
            try:
                await session.commit()
                return
            except IntegrityError:
                await session.rollback()
    raise RuntimeError(f"could not append to the {log}")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """Engine and session factory of one service."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Never echo bound parameters (numbers, symbols) into error messages or logs.
        options: dict[str, Any] = {"hide_parameters": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_tables(self, *metadatas: MetaData) -> None:
        """Create the service's tables (alembic migrations come once schemas are deployed twice)."""
        async with self.engine.begin() as connection:
            for metadata in (KernelBase.metadata, *metadatas):
                await connection.run_sync(metadata.create_all)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """The request's unit of work: commits when the handler succeeds, rolls back otherwise."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk inserts into random-key indexes thrash 2 MiB
    cursor.close()
