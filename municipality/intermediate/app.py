"""A city's intermediate server: `uvicorn --factory municipality.intermediate.app:create_app`."""

from pathlib import Path

from fastapi import FastAPI

from municipality.intermediate.access_log.anchors import start_anchoring, stop_anchoring
from municipality.intermediate.access_log.router import router as access_log_router
from municipality.intermediate.alerts.router import router as alerts_router
from municipality.intermediate.alerts.schedule import start_alert_schedule, stop_alert_schedule
from municipality.intermediate.approvals.router import router as approvals_router
from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.contractors.router import router as contractors_router
from municipality.intermediate.copies.router import router as copies_router
from municipality.intermediate.copies.service import load_item_catalogue
from municipality.intermediate.disposal.router import router as disposal_router
from municipality.intermediate.exports.router import router as exports_router
from municipality.intermediate.models import Base
from municipality.intermediate.notices.router import router as notices_router
from municipality.intermediate.provision_records.router import router as provision_records_router
from municipality.intermediate.provisions.router import router as provisions_router
from municipality.intermediate.queries.router import router as queries_router
from municipality.intermediate.self_information.router import router as self_information_router
from municipality.intermediate.staff.router import router as staff_router
from municipality.intermediate.symbols.router import router as symbols_router
from municipality.intermediate.views.router import router as views_router
from services.app import Runtime, ServiceIdentity, create_service_app
from services.rbac import RoleGrants

ROLES_FILE = Path(__file__).parent / "staff" / "roles.yaml"


async def _load_catalogues(app: FastAPI, runtime: Runtime) -> None:
    app.state.item_catalogue = load_item_catalogue()
    app.state.role_grants = RoleGrants.from_yaml(ROLES_FILE)
    await start_alert_schedule(app, runtime)
    await start_anchoring(app, runtime)


async def _stop_schedules(app: FastAPI, runtime: Runtime) -> None:
    await stop_anchoring(app, runtime)
    await stop_alert_schedule(app, runtime)


def create_app(settings: IntermediateSettings | None = None) -> FastAPI:
    settings = settings or IntermediateSettings()
    identity = ServiceIdentity(settings.municipality_code, settings.municipality_name, "municipality", "intermediate")
    return create_service_app(
        title=f"{settings.municipality_name} intermediate server",
        settings=settings,
        identity=identity,
        metadata=Base.metadata,
        routers=[
            symbols_router,
            copies_router,
            staff_router,
            queries_router,
            views_router,
            provisions_router,
            self_information_router,
            provision_records_router,
            access_log_router,
            approvals_router,
            exports_router,
            disposal_router,
            alerts_router,
            contractors_router,
            notices_router,
        ],
        on_startup=_load_catalogues,
        on_shutdown=_stop_schedules,
    )
