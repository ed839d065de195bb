"""Test support: fresh databases (SQLite file or a new PostgreSQL database per test) and an
in-process network in which real service apps call each other through ASGI with real signatures.

`TEST_POSTGRES_URL` (e.g. `postgresql+asyncpg://postgres@127.0.0.1:5432`) switches every
database to PostgreSQL; CI runs the suite once without it and once with it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from services.app import Runtime
from services.signing import RegisteredKey, RequestSigner, SignatureVerifier

TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
OPERATOR_TOKEN = "test-operator-token-0123456789abcdef"


async def _admin(sql: str, database: str = "postgres") -> None:
    url = TEST_POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(f"{url}/{database}")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _run_admin(sql: str, database: str = "postgres") -> None:
    """Run in a thread of its own, so it works from sync code and from inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin(sql, database)).result()


def create_postgres_database(name: str) -> str:
    _run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _run_admin(f'CREATE DATABASE "{name}"')
    return f"{TEST_POSTGRES_URL}/{name}"


def drop_postgres_database(name: str) -> None:
    _run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# PostgreSQL databases a finished test gave back, by label, and every one made in this run.
# Dropping a database costs about half a second here (it forces a checkpoint), creating one 50 ms
# and emptying one's schema less: so a test reuses a given-back database, emptied, and the run
# drops them all once, at its end (`drop_pooled_databases`).
_GIVEN_BACK: dict[str, list[str]] = {}
_MADE: list[str] = []


def _empty(name: str) -> bool:
    """Drop everything in the database's schema (tables, sequences, triggers, functions)."""
    try:
        _run_admin("SET lock_timeout = '5s'; DROP SCHEMA public CASCADE; CREATE SCHEMA public", name)
    except asyncpg.PostgresError:
        return False  # still locked by a connection someone left open: use a new database
    return True


@contextmanager
def fresh_database_url(directory: Path, label: str) -> Iterator[str]:
    """A database nobody else uses: a SQLite file, or an empty PostgreSQL database (new, or given
    back by an earlier test and emptied)."""
    if not TEST_POSTGRES_URL:
        yield f"sqlite+aiosqlite:///{directory / f'{label}.db'}"
        return
    given_back = _GIVEN_BACK.setdefault(label, [])
    name = given_back.pop() if given_back else ""
    if not name or not _empty(name):
        name = f"mn_test_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
        create_postgres_database(name)
        _MADE.append(name)
    try:
        yield f"{TEST_POSTGRES_URL}/{name}"
    finally:
        given_back.append(name)


def drop_pooled_databases() -> None:
    for name in _MADE:
        drop_postgres_database(name)
    _MADE.clear()
    _GIVEN_BACK.clear()


class StaticDirectory:
    """A key directory holding exactly the components a test registers."""

    def __init__(self) -> None:
        self.keys: dict[str, RegisteredKey] = {}

    def register(self, runtime: Runtime, base_url: str) -> RegisteredKey:
        identity = runtime.identity
        registered = RegisteredKey(
            key_id=identity.key_id,
            institution_code=identity.institution_code,
            institution_name=identity.institution_name,
            institution_kind=identity.institution_kind,
            component=identity.component,
            base_url=base_url,
            signing_public_key=runtime.keys.signing_public_b64(),
            encryption_public_key=runtime.keys.encryption_public_b64(),
        )
        self.keys[registered.key_id] = registered
        return registered

    async def resolve(self, key_id: str) -> RegisteredKey | None:
        return self.keys.get(key_id)


class ASGINetwork(httpx.AsyncBaseTransport):
    """Routes each request to the app registered for its host: real apps, no sockets."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}

    def add(self, host: str, app: FastAPI) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no service at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass
class InProcessNetwork:
    """Several service apps started in-process, sharing one static directory and one ASGI network."""

    directory: StaticDirectory = field(default_factory=StaticDirectory)
    transport: ASGINetwork = field(default_factory=ASGINetwork)
    apps: dict[str, FastAPI] = field(default_factory=dict)

    def runtime(self, host: str) -> Runtime:
        runtime: Runtime = self.apps[host].state.runtime
        return runtime

    def client_for(self, host: str, *, signed_as: str | None = None) -> httpx.AsyncClient:
        """A client that talks to `host`, signing as the app `signed_as` when given."""
        auth = RequestSigner(self.runtime(signed_as).keys) if signed_as else None
        return httpx.AsyncClient(transport=self.transport, base_url=f"http://{host}", auth=auth)


@asynccontextmanager
async def in_process_network(factories: dict[str, Callable[[], FastAPI]]) -> AsyncIterator[InProcessNetwork]:
    """Start each app's lifespan, register its keys, and wire its outbound client to the others.

    `factories` maps a host name (used in URLs, e.g. "jlis.test") to a zero-argument factory.
    """
    network = InProcessNetwork()
    async with AsyncExitStack() as stack:
        for host, factory in factories.items():
            app = factory()
            await stack.enter_async_context(app.router.lifespan_context(app))
            network.apps[host] = app
            network.transport.add(host, app)
        for host, app in network.apps.items():
            runtime: Runtime = app.state.runtime
            network.directory.register(runtime, f"http://{host}")
            runtime.directory = network.directory
            runtime.verifier = SignatureVerifier(
                network.directory, runtime.database, runtime.settings.signature_window_seconds
            )
            await runtime.client.http.aclose()
            runtime.client.http = httpx.AsyncClient(transport=network.transport, auth=RequestSigner(runtime.keys))
        yield network


def settings_kwargs(directory: Path, database_url: str, **extra: Any) -> dict[str, Any]:
    """Common settings for a service under test: its own data dir, database and operator token."""
    return {"data_dir": directory, "database_url": database_url, "operator_token": OPERATOR_TOKEN, **extra}
