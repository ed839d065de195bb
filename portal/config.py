"""Portal settings (env prefix `PORTAL_`)."""

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    session_ttl_seconds: int = 900
    jlis_issuer: str = "jlis.jlis"  # J-LIS's component (`iss`); its assertions' `kid` names the key generation
