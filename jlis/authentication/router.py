"""HTTP: the test-only login that stands in for card authentication (disabled by default)."""

from fastapi import APIRouter

from jlis.authentication.schemas import LoginAssertion, TestLoginRequest
from jlis.authentication.service import ASSERTION_TTL_SECONDS, assert_identity_to_portal
from jlis.config import JlisSettings
from services.app import DbSession, RuntimeDep, settings_of
from services.problems import NotFound

router = APIRouter(tags=["authentication"])


@router.post("/test-logins", response_model=LoginAssertion)
async def post_test_login(body: TestLoginRequest, session: DbSession, runtime: RuntimeDep) -> LoginAssertion:
    if not settings_of(runtime, JlisSettings).test_login_enabled:
        raise NotFound("test_login_disabled", "Test login is disabled; use the individual number card.")
    assertion = await assert_identity_to_portal(session, runtime.keys, body.individual_number)
    return LoginAssertion(assertion=assertion, expires_in=ASSERTION_TTL_SECONDS)
