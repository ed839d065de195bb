"""My Portal on the linkage network, for the portal's tests: the fixture and a resident's login."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest

from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from portal.app import create_app as create_portal
from portal.config import PortalSettings
from tests.support import in_process_network, settings_kwargs
from tests.unit.linkage_fixture import BROKER, JLIS, OPERATOR, Linkage, _enrol_cities, _factories

PORTAL = "portal.test"


@pytest.fixture(name="linkage")
async def linkage_with_portal(
    tmp_path: Path, linkage_database_urls: dict[str, str], database_url_factory: Callable[[str], str]
) -> AsyncIterator[Linkage]:
    """The linkage network with My Portal, enrolled at the broker as the operator enrols it, and
    J-LIS's test login on for the resident's login."""
    factories = _factories(tmp_path, linkage_database_urls)
    jlis = JlisSettings(**settings_kwargs(tmp_path / JLIS, linkage_database_urls[JLIS]), test_login_enabled=True)
    factories[JLIS] = partial(create_jlis, jlis)
    portal = PortalSettings(**settings_kwargs(tmp_path / PORTAL, database_url_factory("portal")))
    factories[PORTAL] = partial(create_portal, portal.model_copy(update={"broker_url": f"http://{BROKER}"}))
    async with in_process_network(factories) as running:
        await _enrol_cities(running)
        keys = running.runtime(PORTAL).keys
        entry = {
            "code": "portal",
            "name": "マイナポータル",
            "kind": "portal",
            "components": [
                {
                    "component": "portal",
                    "base_url": f"http://{PORTAL}",
                    "signing_public_key": keys.signing_public_b64(),
                    "encryption_public_key": keys.encryption_public_b64(),
                }
            ],
        }
        async with running.client_for(BROKER) as broker:
            response = await broker.post("/registry/institutions", json=entry, headers=OPERATOR)
        assert response.status_code == 200, response.text
        yield Linkage(running)


async def login(linkage: Linkage, individual_number: str) -> dict[str, str]:
    """The resident logs in through J-LIS's test login: My Portal's session header."""
    async with linkage.network.client_for(JLIS) as jlis, linkage.network.client_for(PORTAL) as portal:
        assertion = (await jlis.post("/test-logins", json={"individual_number": individual_number})).json()
        session = await portal.post("/api/session", json={"assertion": assertion["assertion"]})
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['session_token']}"}
