"""Intermediate server settings (env prefix `INTERMEDIATE_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class IntermediateSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTERMEDIATE_", extra="ignore")

    municipality_code: str = "132136"
    municipality_name: str = "東村山市"
    # SCM staff sign-in: how long a session token lasts, and how many wrong passwords in a row
    # lock an account for how long.
    staff_session_minutes: int = Field(default=15, ge=1, le=24 * 60)
    staff_max_failed_logins: int = Field(default=5, ge=1)
    staff_lockout_minutes: int = Field(default=15, ge=1)
    # SCM unusual-access alerts: seconds between evaluations of the new access-log entries
    # (0: only on demand, POST /alerts/evaluate).
    alert_interval_seconds: float = Field(default=60, ge=0)
    # SCM access log: how often its signed tree head is anchored at the broker.
    anchor_interval_seconds: float = Field(default=300, gt=0)
