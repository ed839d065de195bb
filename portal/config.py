"""Portal settings (env prefix `PORTAL_`)."""

from pydantic_settings import SettingsConfigDict

from services.app import Runtime
from services.settings import ServiceSettings


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    session_ttl_seconds: int = 900
    jlis_key_id: str = "jlis.jlis"


def portal_settings(runtime: Runtime) -> PortalSettings:
    settings = runtime.settings
    assert isinstance(settings, PortalSettings)
    return settings
