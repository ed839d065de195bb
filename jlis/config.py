"""J-LIS settings (env prefix `JLIS_`)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class JlisSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JLIS_", extra="ignore")

    acquisition_number_ttl_seconds: int = 600
    # Stand-in for card login in tests and demos: never enable in production.
    test_login_enabled: bool = False
    # The card CA's certificates and keys (created on first start); `None` means `data_dir/pki`.
    pki_dir: Path | None = None
    # Where relying parties reach J-LIS: written into certificates as the CRL and OCSP addresses.
    public_url: str = "http://127.0.0.1:8101"
    card_challenge_ttl_seconds: int = 120

    @property
    def pki_directory(self) -> Path:
        return self.pki_dir or self.data_dir / "pki"
