"""Identity proof for My Portal (公的個人認証, JPKI).

J-LIS vouches for a person to the portal with a short-lived EdDSA-signed JWT that carries an
acquisition number bound to the portal, never the individual number or the serial; the portal
redeems it at the broker for its own symbol. Card login (`jlis.cards`) issues it after checking a
challenge signed by the card's authentication key; the test login issues the same assertion for
a bare individual number, in tests and demos only.
"""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.acquisition.service import new_acquisition_number, person_serial_for_number
from services.db import utc_now
from services.keys import ServiceKeys

PORTAL_INSTITUTION = "portal"
JLIS_ISSUER = "jlis.jlis"  # J-LIS's component at the broker's registry
ASSERTION_TTL_SECONDS = 300


async def issue_portal_assertion(session: AsyncSession, keys: ServiceKeys, person_serial: str, *, via: str) -> str:
    """The login assertion for one person: a signed JWT around a fresh ticket for the portal.

    `via` names the login that vouched (`card-login`, `test-login`) in the number-operations log.
    """
    ticket = await new_acquisition_number(session, person_serial, PORTAL_INSTITUTION, ASSERTION_TTL_SECONDS, caller=via)
    await session.flush()
    now = utc_now()
    claims = {
        "iss": JLIS_ISSUER,  # the component, whichever key generation signs (`kid`)
        "aud": PORTAL_INSTITUTION,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ASSERTION_TTL_SECONDS)).timestamp()),
        "acquisition_number": ticket,
    }
    return jwt.encode(claims, keys.signing_key, algorithm="EdDSA", headers={"kid": keys.key_id})


async def assert_identity_to_portal(session: AsyncSession, keys: ServiceKeys, individual_number: str) -> str:
    """The test login: vouch for whoever holds this (valid) number, without a card."""
    person_serial = await person_serial_for_number(session, individual_number)
    return await issue_portal_assertion(session, keys, person_serial, via="test-login")
