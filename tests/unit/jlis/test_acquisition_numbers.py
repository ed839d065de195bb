"""Acquisition numbers: issued only to a city for its own residents, redeemed once by the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from municipality.city.app import create_app as create_city
from municipality.city.config import CitySettings
from tests.support import InProcessNetwork, in_process_network, settings_kwargs


@pytest.fixture
async def network(tmp_path: Path, database_url_factory: Callable[[str], str]) -> AsyncIterator[InProcessNetwork]:
    def city(code: str) -> Callable[[], object]:
        return lambda: create_city(
            CitySettings(
                **settings_kwargs(tmp_path / code, database_url_factory(f"city{code}")), municipality_code=code
            )
        )

    factories = {
        "jlis.test": lambda: create_jlis(JlisSettings(**settings_kwargs(tmp_path / "jlis", database_url_factory("jlis")))),
        "kodaira.test": city("132110"),
        "higashimurayama.test": city("132136"),
    }
    async with in_process_network(factories) as network:  # type: ignore[arg-type]
        yield network


async def test_city_gets_acquisition_numbers_for_its_own_residents_only(network: InProcessNetwork) -> None:
    async with network.client_for("jlis.test", signed_as="kodaira.test") as kodaira:
        issued = (await kodaira.post("/individual-numbers", json={"resident_codes": ["12345678901"]})).json()
        number = issued["numbers"][0]["individual_number"]
        own = await kodaira.post("/acquisition-numbers", json={"individual_numbers": [number]})
    async with network.client_for("jlis.test", signed_as="higashimurayama.test") as stranger:
        foreign = await stranger.post("/acquisition-numbers", json={"individual_numbers": [number]})
    assert own.status_code == 200
    assert len(own.json()["acquisition_numbers"][0]) == 32
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "not_a_resident"
