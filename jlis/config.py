"""J-LIS settings (env prefix `JLIS_`)."""

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class JlisSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JLIS_", extra="ignore")

    acquisition_number_ttl_seconds: int = 600
    # Stand-in for card login until the card PKI exists: never enable in production.
    test_login_enabled: bool = False
