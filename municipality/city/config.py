"""City systems settings (env prefix `CITY_`)."""

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class CitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", extra="ignore")

    municipality_code: str = "132136"
    municipality_name: str = "東村山市"
    jlis_url: str = "http://127.0.0.1:8101"
    intermediate_url: str = "http://127.0.0.1:8112"
