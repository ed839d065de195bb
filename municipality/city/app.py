"""A city's own systems: `uvicorn --factory municipality.city.app:create_app`."""

from fastapi import FastAPI

from municipality.city.config import CitySettings
from municipality.city.models import Base
from municipality.city.registry.router import router as registry_router
from municipality.city.tax.router import router as tax_router
from services.app import ServiceIdentity, create_service_app


def create_app(settings: CitySettings | None = None) -> FastAPI:
    settings = settings or CitySettings()
    identity = ServiceIdentity(settings.municipality_code, settings.municipality_name, "municipality", "city")
    return create_service_app(
        title=f"{settings.municipality_name} city systems",
        settings=settings,
        identity=identity,
        metadata=Base.metadata,
        routers=[registry_router, tax_router],
    )
