"""The J-LIS service: `uvicorn --factory jlis.app:create_app`."""

from fastapi import FastAPI

from jlis.acquisition.router import router as acquisition_router
from jlis.authentication.router import router as authentication_router
from jlis.cards.pki import load_or_create_authority
from jlis.cards.router import cards_router, pki_router
from jlis.config import JlisSettings
from jlis.models import Base
from jlis.numbers.router import router as numbers_router
from jlis.numbers.service import NumberKey
from services.app import Runtime, ServiceIdentity, create_service_app, settings_of
from services.keys import load_or_create_secret

IDENTITY = ServiceIdentity("jlis", "地方公共団体情報システム機構 (J-LIS)", "jlis", "jlis")


async def _load_keys(app: FastAPI, runtime: Runtime) -> None:
    settings = settings_of(runtime, JlisSettings)
    app.state.number_key = NumberKey(load_or_create_secret(settings.data_dir / "keys" / "number.hmac"))
    app.state.certificate_authority = load_or_create_authority(settings.pki_directory, settings.public_url)


def create_app(settings: JlisSettings | None = None) -> FastAPI:
    return create_service_app(
        title="J-LIS",
        settings=settings or JlisSettings(),
        identity=IDENTITY,
        metadata=Base.metadata,
        routers=[numbers_router, acquisition_router, authentication_router, cards_router, pki_router],
        on_startup=_load_keys,
    )
