"""A city's own systems: `uvicorn --factory municipality.city.app:create_app`.

The resident registry (住民基本台帳) with the integrated address system, resident tax, child
allowance, national health insurance and welfare, each a module with its own tables in this
service's database; each pushes its copies (副本) to the city's intermediate server."""

from fastapi import FastAPI

from municipality.city.child_allowance.router import router as child_allowance_router
from municipality.city.config import CitySettings
from municipality.city.health_insurance.router import router as health_insurance_router
from municipality.city.models import Base
from municipality.city.registry.router import router as registry_router
from municipality.city.tax.router import router as tax_router
from municipality.city.welfare.router import router as welfare_router
from services.app import ServiceIdentity, create_service_app


def create_app(settings: CitySettings | None = None) -> FastAPI:
    settings = settings or CitySettings()
    identity = ServiceIdentity(settings.municipality_code, settings.municipality_name, "municipality", "city")
    return create_service_app(
        title=f"{settings.municipality_name} city systems",
        settings=settings,
        identity=identity,
        metadata=Base.metadata,
        routers=[registry_router, tax_router, child_allowance_router, health_insurance_router, welfare_router],
    )
