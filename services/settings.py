"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs to start: where its data lives and how to reach the network.

    Secrets are never defaulted outside development: `operator_token` must be set there.
    """

    model_config = SettingsConfigDict(extra="ignore")

    environment: str = "development"
    database_url: str = ""
    data_dir: Path = Path("var/data")
    operator_token: str = ""
    broker_url: str = "http://127.0.0.1:8102"
    signature_window_seconds: int = 300
    request_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _fill_defaults(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'service.db'}"
        if self.environment != "development" and len(self.operator_token) < 32:
            raise ValueError("operator_token must be set (32+ characters) outside development")
        return self
