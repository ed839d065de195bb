"""Read every row of every table of a service's database, SQLite or PostgreSQL, as text."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg


def dump_database(url: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """{table: (column names, rows)} for every table in the database at `url`."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with sqlite3.connect(path) as connection:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            dump = {}
            for table in tables:
                cursor = connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
                dump[table] = ([c[0] for c in cursor.description], cursor.fetchall())
            return dump
    return asyncio.run(_dump_postgres(url.replace("postgresql+asyncpg://", "postgresql://")))


async def _dump_postgres(url: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    connection = await asyncpg.connect(url)
    try:
        tables = [
            r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        ]
        dump = {}
        for table in tables:
            columns = [
                r["column_name"]
                for r in await connection.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name=$1 ORDER BY ordinal_position",
                    table,
                )
            ]
            rows = [tuple(r.values()) for r in await connection.fetch(f'SELECT * FROM "{table}"')]  # noqa: S608
            dump[table] = (columns, rows)
        return dump
    finally:
        await connection.close()
