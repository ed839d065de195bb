"""My Portal: `uvicorn --factory portal.app:create_app`."""

from fastapi import FastAPI

from portal.config import PortalSettings
from portal.models import Base
from portal.notices.router import router as notices_router
from portal.own_information.router import router as own_information_router
from portal.records.router import router as records_router
from portal.sessions.router import router as sessions_router
from services.app import ServiceIdentity, create_service_app

IDENTITY = ServiceIdentity("portal", "マイナポータル", "portal", "portal")


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    return create_service_app(
        title="My Portal",
        settings=settings or PortalSettings(),
        identity=IDENTITY,
        metadata=Base.metadata,
        routers=[sessions_router, records_router, own_information_router, notices_router],
    )
