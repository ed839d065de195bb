"""J-LIS on an in-process network with the callers it serves: two cities and the broker.

Used by the fixtures in `tests/unit/jlis/conftest.py`, which `tests/unit/services` reuses:
the kernel's signing and problem handling are tested through J-LIS's real endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from broker.app import create_app as create_broker
from broker.config import BrokerSettings
from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from municipality.city.app import create_app as create_city
from municipality.city.config import CitySettings
from tests.support import InProcessNetwork, in_process_network, settings_kwargs

JLIS = "jlis.test"
BROKER = "broker.test"
KODAIRA = "kodaira.test"  # 小平市 132110
HIGASHIMURAYAMA = "higashimurayama.test"  # 東村山市 132136
PROBLEM_JSON = "application/problem+json"


@asynccontextmanager
async def jlis_network(
    directory: Path, database_url_factory: Callable[[str], str], **jlis_options: Any
) -> AsyncIterator[InProcessNetwork]:
    """J-LIS (with `jlis_options` as extra settings), the broker, 小平市 and 東村山市."""
    # Creating a PostgreSQL database runs an event loop of its own, so it cannot run on this one.
    urls = {
        label: await asyncio.to_thread(database_url_factory, label)
        for label in ("jlis", "broker", "city132110", "city132136")
    }

    def city(code: str) -> Callable[[], FastAPI]:
        settings = CitySettings(**settings_kwargs(directory / code, urls[f"city{code}"]), municipality_code=code)
        return lambda: create_city(settings)

    jlis_settings = JlisSettings(**settings_kwargs(directory / "jlis", urls["jlis"], **jlis_options))
    broker_settings = BrokerSettings(**settings_kwargs(directory / "broker", urls["broker"]))
    factories: dict[str, Callable[[], FastAPI]] = {
        JLIS: lambda: create_jlis(jlis_settings),
        BROKER: lambda: create_broker(broker_settings),
        KODAIRA: city("132110"),
        HIGASHIMURAYAMA: city("132136"),
    }
    async with in_process_network(factories) as network:
        yield network


async def issue_numbers(network: InProcessNetwork, resident_codes: list[str], *, city: str = KODAIRA) -> list[str]:
    """The individual numbers J-LIS issues to `city` for these resident codes, in request order."""
    async with network.client_for(JLIS, signed_as=city) as client:
        response = await client.post("/individual-numbers", json={"resident_codes": resident_codes})
    response.raise_for_status()
    return [issued["individual_number"] for issued in response.json()["numbers"]]


def problem_code(response: httpx.Response) -> str:
    """The `code` of an error response, which must be RFC 9457 problem+json."""
    assert response.headers["content-type"] == PROBLEM_JSON
    code = response.json()["code"]
    assert isinstance(code, str)
    return code
