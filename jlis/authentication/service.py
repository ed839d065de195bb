"""Identity proof for My Portal (公的個人認証, JPKI) — for now its test stand-in.

J-LIS vouches for a person to the portal with a short-lived EdDSA-signed JWT that carries an
acquisition number bound to the portal, never the individual number or the serial; the portal
redeems it at the broker for its own symbol. Card-certificate login (issue 4) will issue the
same assertion after checking a challenge signed by the card's authentication key.
"""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.acquisition.service import issue_acquisition_numbers
from services.db import utc_now
from services.keys import ServiceKeys

PORTAL_INSTITUTION = "portal"
ASSERTION_TTL_SECONDS = 300


async def assert_identity_to_portal(session: AsyncSession, keys: ServiceKeys, individual_number: str) -> str:
    [ticket] = await issue_acquisition_numbers(
        session, PORTAL_INSTITUTION, [individual_number], ASSERTION_TTL_SECONDS, residents_of=None
    )
    now = utc_now()
    claims = {
        "iss": keys.key_id,
        "aud": PORTAL_INSTITUTION,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ASSERTION_TTL_SECONDS)).timestamp()),
        "acquisition_number": ticket,
    }
    return jwt.encode(claims, keys.signing_key, algorithm="EdDSA", headers={"kid": keys.key_id})
