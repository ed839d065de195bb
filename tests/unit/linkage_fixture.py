"""A small linkage network for unit tests of the broker and the municipalities.

J-LIS, the broker and two cities (each its own systems plus an intermediate server) run
in-process, and the cities are enrolled at the broker's registry as the network operator does
(devnet/enrolment.py), because the broker finds a provider's intermediate server there.
The `linkage` fixture is defined once here and re-exported by the broker and municipality
conftests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from starlette.types import ASGIApp, Receive, Scope, Send

from broker.app import create_app as create_broker
from broker.config import BrokerSettings
from devnet.population import synthetic_residents
from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from municipality.city.app import create_app as create_city
from municipality.city.config import CitySettings
from municipality.intermediate.app import create_app as create_intermediate
from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.symbols.models import SymbolLink
from services.db import Database
from tests.support import OPERATOR_TOKEN, InProcessNetwork, in_process_network, settings_kwargs

JLIS = "jlis.test"
BROKER = "broker.test"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CHILD_ALLOWANCE = "child_allowance.certification"
INCOME_ITEMS = ["tax.income_levy", "tax.taxable_income"]
STAFF_PASSWORD = "synthetic-staff-password"  # every test account's, unless a test sets its own


@dataclass(frozen=True)
class City:
    slug: str
    code: str
    name: str

    @property
    def city_host(self) -> str:
        return f"{self.slug}-city.test"

    @property
    def intermediate_host(self) -> str:
        return f"{self.slug}-intermediate.test"

    @property
    def intermediate_key_id(self) -> str:
        """How the intermediate server names itself in its request signatures."""
        return f"{self.code}.intermediate"


KODAIRA = City("kodaira", "132110", "小平市")
HIGASHIMURAYAMA = City("higashimurayama", "132136", "東村山市")
CITIES = (KODAIRA, HIGASHIMURAYAMA)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def synthetic_resident(seed: int, city: City) -> dict[str, Any]:
    """One fictitious resident (rule 10: never real data)."""
    [resident] = synthetic_residents(1, seed, "東京都", city.name)
    return resident


@dataclass(frozen=True)
class Mover:
    """A resident registered in both cities, whose last year's income 小平市 holds as copies."""

    resident: dict[str, Any]
    individual_number: str
    address_numbers: dict[str, str]  # city slug → that city's address number
    tax_year: int
    taxable_income: int
    income_levy: int


@dataclass
class Linkage:
    """The running network and the calls the tests make on it as operator, city and staff."""

    network: InProcessNetwork

    def database(self, host: str) -> Database:
        return self.network.runtime(host).database

    async def register_residents(self, city: City, residents: Sequence[dict[str, Any]]) -> httpx.Response:
        async with self.network.client_for(city.city_host) as client:
            return await client.post("/residents", json={"residents": list(residents)}, headers=OPERATOR)

    async def assess_tax(
        self, city: City, resident_code: str, tax_year: int, taxable_income: int, income_levy: int
    ) -> httpx.Response:
        assessment = {
            "resident_code": resident_code,
            "tax_year": tax_year,
            "taxable_income": taxable_income,
            "income_levy": income_levy,
        }
        async with self.network.client_for(city.city_host) as client:
            return await client.post("/tax/assessments", json={"assessments": [assessment]}, headers=OPERATOR)

    async def enrol_staff(
        self,
        city: City,
        staff_id: str,
        department: str,
        *,
        title: str = "担当",
        password: str | None = STAFF_PASSWORD,
        headers: dict[str, str] = OPERATOR,
    ) -> httpx.Response:
        """POST /staff: a staff account, made by the operator unless `headers` say otherwise."""
        account = {"staff_id": staff_id, "department": department, "title": title, "password": password}
        async with self.network.client_for(city.intermediate_host) as client:
            return await client.post("/staff", json=account, headers=headers)

    async def log_in(self, city: City, staff_id: str, password: str = STAFF_PASSWORD) -> httpx.Response:
        """POST /staff/sessions: sign in as a staff member."""
        async with self.network.client_for(city.intermediate_host) as client:
            return await client.post("/staff/sessions", json={"staff_id": staff_id, "password": password})

    async def staff_token(self, city: City, staff_id: str, department: str, *, title: str = "担当") -> str:
        """A new staff account, signed in: its session token."""
        response = await self.enrol_staff(city, staff_id, department, title=title)
        assert response.status_code == 201, response.text
        response = await self.log_in(city, staff_id)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    async def staff_query(
        self,
        city: City,
        token: str,
        address_number: str,
        *,
        procedure: str = CHILD_ALLOWANCE,
        provider: City = KODAIRA,
        items: Sequence[str] = INCOME_ITEMS,
    ) -> httpx.Response:
        body = {
            "address_number": address_number,
            "procedure_code": procedure,
            "provider_code": provider.code,
            "item_codes": list(items),
        }
        async with self.network.client_for(city.intermediate_host) as client:
            return await client.post("/queries", json=body, headers=bearer(token))

    async def provision_records(self) -> list[dict[str, Any]]:
        async with self.network.client_for(BROKER) as client:
            response = await client.get("/provision-records", headers=OPERATOR)
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()
        return records

    async def access_log(self, city: City) -> dict[str, Any]:
        async with self.network.client_for(city.intermediate_host) as client:
            response = await client.get("/access-log", headers=OPERATOR)
        assert response.status_code == 200, response.text
        log: dict[str, Any] = response.json()
        return log

    async def symbol_held_by(self, city: City, address_number: str) -> str:
        """The city's symbol for a person, as its intermediate server stores it."""
        async with self.database(city.intermediate_host).sessions() as session:
            symbol = await session.scalar(select(SymbolLink.symbol).where(SymbolLink.address_number == address_number))
        assert symbol is not None
        return symbol

    def take_down(self, host: str) -> None:
        """The service stops answering: calls to it fail to connect."""
        del self.network.transport.apps[host]

    def bring_back(self, host: str) -> None:
        """The service answers again, with everything it held before."""
        self.network.transport.add(host, self.network.apps[host])

    async def move_resident(self, seed: int = 1) -> Mover:
        """The seed's scenario: a resident who lived in 小平市 last year is now in 東村山市 too."""
        resident = synthetic_resident(seed, KODAIRA)
        address_numbers: dict[str, str] = {}
        individual_number = ""
        for city in CITIES:  # 小平市 first; 東村山市 registers the move-in from it
            entry = resident if city is KODAIRA else {**resident, "moved_in_from": KODAIRA.code}
            response = await self.register_residents(city, [entry])
            assert response.status_code == 200, response.text
            [registered] = response.json()["residents"]
            address_numbers[city.slug] = registered["address_number"]
            individual_number = registered["individual_number"]
        tax_year = date.today().year - 1
        # Seven digits and more, so a search for the value cannot hit a timestamp's microseconds.
        taxable_income = 12_718_000 + seed
        income_levy = taxable_income // 10
        response = await self.assess_tax(KODAIRA, resident["resident_code"], tax_year, taxable_income, income_levy)
        assert response.status_code == 200, response.text
        return Mover(resident, individual_number, address_numbers, tax_year, taxable_income, income_levy)


async def stored_text(database: Database) -> str:
    """Every value in every table of a database, as one string to search for leaked identifiers."""

    def table_names(connection: Connection) -> list[str]:
        return inspect(connection).get_table_names()

    lines: list[str] = []
    async with database.engine.connect() as connection:
        for table in await connection.run_sync(table_names):
            rows = await connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 - names from the schema
            lines.extend(f"{table}: {row}" for row in rows)
    return "\n".join(lines)


def _factories(tmp_path: Path, urls: dict[str, str]) -> dict[str, Callable[[], FastAPI]]:
    def kwargs(host: str) -> dict[str, Any]:
        return settings_kwargs(tmp_path / host, urls[host])

    def city_systems(city: City) -> FastAPI:
        return create_city(
            CitySettings(
                **kwargs(city.city_host),
                jlis_url=f"http://{JLIS}",
                intermediate_url=f"http://{city.intermediate_host}",
                broker_url=f"http://{BROKER}",
                municipality_code=city.code,
                municipality_name=city.name,
            )
        )

    def intermediate_server(city: City) -> FastAPI:
        return create_intermediate(
            IntermediateSettings(
                **kwargs(city.intermediate_host),
                broker_url=f"http://{BROKER}",
                municipality_code=city.code,
                municipality_name=city.name,
            )
        )

    factories: dict[str, Callable[[], FastAPI]] = {
        JLIS: lambda: create_jlis(JlisSettings(**kwargs(JLIS))),
        BROKER: lambda: create_broker(BrokerSettings(**kwargs(BROKER), jlis_url=f"http://{JLIS}")),
    }
    for city in CITIES:
        factories[city.city_host] = partial(city_systems, city)
        factories[city.intermediate_host] = partial(intermediate_server, city)
    return factories


async def _enrol_cities(network: InProcessNetwork) -> None:
    async with network.client_for(BROKER) as broker:
        for city in CITIES:
            components = [
                {
                    "component": component,
                    "base_url": f"http://{host}",
                    "signing_public_key": network.runtime(host).keys.signing_public_b64(),
                    "encryption_public_key": network.runtime(host).keys.encryption_public_b64(),
                }
                for component, host in (("city", city.city_host), ("intermediate", city.intermediate_host))
            ]
            entry = {"code": city.code, "name": city.name, "kind": "municipality", "components": components}
            response = await broker.post("/registry/institutions", json=entry, headers=OPERATOR)
            assert response.status_code == 200, response.text


@pytest.fixture
def linkage_database_urls(database_url_factory: Callable[[str], str]) -> dict[str, str]:
    """One fresh database per service, made here in a sync fixture: creating a PostgreSQL
    database runs its own event loop, which cannot start inside the test's."""
    hosts = [JLIS, BROKER, *(host for city in CITIES for host in (city.city_host, city.intermediate_host))]
    return {host: database_url_factory(host.removesuffix(".test").replace("-", "_")) for host in hosts}


@pytest.fixture
async def linkage(tmp_path: Path, linkage_database_urls: dict[str, str]) -> AsyncIterator[Linkage]:
    async with in_process_network(_factories(tmp_path, linkage_database_urls)) as network:
        await _enrol_cities(network)
        yield Linkage(network)


# --------------------------------------------------------------------------------------------
# Slow providers and batch queries (broker/queries, municipality/intermediate/queries).
# --------------------------------------------------------------------------------------------

BROKER_TIMEOUT = 0.5  # the broker's request_timeout_seconds once a test slows a service down
PROVIDER_DELAY = 5.0  # how long a slowed-down service takes: far longer than the broker waits


class DelayedPath:
    """ASGI wrapper: requests for one path wait `seconds` before the real app sees them, as behind
    a slow network or an overloaded server (the network is the edge of the world; the app is real)."""

    def __init__(self, app: ASGIApp, path: str, seconds: float) -> None:
        self.app, self.path, self.seconds = app, path, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def slow_down(linkage: Linkage, host: str, path: str, seconds: float) -> None:
    """`host` answers requests for `path` only after `seconds`, and from now on the broker waits at
    most BROKER_TIMEOUT for any call (the other services keep the default), so a test sees it give
    up. The broker is made impatient only here, so setting up the test never trips the short
    timeout. `bring_back(host)` undoes the delay."""
    app = DelayedPath(linkage.network.apps[host], path, seconds)
    linkage.network.transport.apps[host] = httpx.ASGITransport(app=app)
    linkage.network.runtime(BROKER).client.timeout_seconds = BROKER_TIMEOUT


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The response to `request` and how many seconds it took to come."""
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


async def staff_batch_query(
    linkage: Linkage,
    city: City,
    token: str,
    address_numbers: Sequence[str],
    *,
    procedure: str = CHILD_ALLOWANCE,
    provider: City = KODAIRA,
    items: Sequence[str] = INCOME_ITEMS,
) -> httpx.Response:
    """POST /queries/batch to the city's intermediate server as a staff member."""
    body = {
        "address_numbers": list(address_numbers),
        "procedure_code": procedure,
        "provider_code": provider.code,
        "item_codes": list(items),
    }
    async with linkage.network.client_for(city.intermediate_host) as client:
        return await client.post("/queries/batch", json=body, headers=bearer(token))


async def signed_broker_batch(
    linkage: Linkage,
    requester_symbols: Sequence[str],
    *,
    procedure: str = CHILD_ALLOWANCE,
    provider: City = KODAIRA,
    items: Sequence[str] = INCOME_ITEMS,
) -> httpx.Response:
    """POST /queries/batch to the broker exactly as 東村山市's intermediate server would (signed by it)."""
    body = {
        "requester_symbols": list(requester_symbols),
        "procedure_code": procedure,
        "provider_code": provider.code,
        "item_codes": list(items),
    }
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.intermediate_host) as client:
        return await client.post("/queries/batch", json=body)
