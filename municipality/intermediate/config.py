"""Intermediate server settings (env prefix `INTERMEDIATE_`)."""

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class IntermediateSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTERMEDIATE_", extra="ignore")

    municipality_code: str = "132136"
    municipality_name: str = "東村山市"
