"""Broker settings (env prefix `BROKER_`)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings

WHITELIST_FILE = Path(__file__).parent / "whitelist" / "whitelist.yaml"


class BrokerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BROKER_", extra="ignore")

    jlis_url: str = "http://127.0.0.1:8101"
    whitelist_file: Path = WHITELIST_FILE
    # How long a component's previous key still verifies once its next key is active.
    key_overlap_seconds: int = 86400
