"""J-LIS rotates its own key as every service does, and residents go on logging in to My Portal:
its assertions name the key generation that signed them (`kid`), which My Portal resolves at the
broker's registry and accepts only as a key of J-LIS's own component."""

from __future__ import annotations

from datetime import timedelta

import jwt

from tests.unit.broker.test_service_key_rotation import OVERLAP, Network, network, prepare_and_announce_next_key
from tests.unit.linkage_fixture import JLIS
from tests.unit.portal.portal_fixture import PORTAL

__all__ = ["network"]  # the fixture, used here on the linkage network with My Portal


async def log_in(network: Network) -> tuple[str, int]:
    """A test login at J-LIS, then My Portal: the assertion's key id and the portal's status."""
    async with network.linkage.network.client_for(JLIS) as jlis, network.linkage.network.client_for(PORTAL) as portal:
        assertion = await jlis.post("/test-logins", json={"individual_number": network.mover.individual_number})
        token = assertion.json()["assertion"]
        session = await portal.post("/api/session", json={"assertion": token})
    return jwt.get_unverified_header(token)["kid"], session.status_code


async def test_residents_log_in_to_my_portal_before_during_and_after_jlis_rotates_its_key(network: Network) -> None:
    network.linkage.network.runtime(JLIS).keys.now = network.clock.now
    activates_at = network.clock.at + timedelta(hours=1)
    await prepare_and_announce_next_key(network, JLIS, "jlis", "jlis", activates_at)

    before = await log_in(network)
    network.clock.at = activates_at
    after_the_switch = await log_in(network)
    network.clock.at = activates_at + OVERLAP
    after_the_overlap = await log_in(network)

    assert before == ("jlis.jlis", 201)
    assert after_the_switch == ("jlis.jlis.v2", 201)
    assert after_the_overlap == ("jlis.jlis.v2", 201)
