"""The broker service: `uvicorn --factory broker.app:create_app`."""

import asyncio

from fastapi import FastAPI

from broker.admins.router import router as administrators_router
from broker.config import BrokerSettings
from broker.log_anchors.router import router as log_anchors_router
from broker.models import Base
from broker.notices.router import router as notices_router
from broker.provision_records.router import log_router as provision_log_router
from broker.provision_records.router import router as provision_records_router
from broker.queries.router import router as queries_router
from broker.registry.router import router as registry_router
from broker.registry.service import RegistryDirectory
from broker.reissue.router import applications_router as reissue_applications_router
from broker.reissue.router import router as reissue_router
from broker.reissue.service import ReissueJobs
from broker.symbols.router import router as symbols_router
from broker.whitelist.router import router as whitelist_router
from broker.whitelist.service import WhitelistVersions, store_shipped_whitelist
from services.app import Runtime, ServiceIdentity, create_service_app, settings_of
from services.db import Database
from services.http import ServiceClient
from services.keys import load_or_create_secret
from services.settings import ServiceSettings
from services.signing import KeyDirectory

IDENTITY = ServiceIdentity("broker", "情報提供ネットワークシステム", "broker", "broker")


def _registry_directory(database: Database, _client: ServiceClient, settings: ServiceSettings) -> KeyDirectory:
    if not isinstance(settings, BrokerSettings):
        raise TypeError(f"{type(settings).__name__} is not BrokerSettings")
    return RegistryDirectory(database, settings.key_overlap_seconds)


async def _load_broker_state(app: FastAPI, runtime: Runtime) -> None:
    app.state.symbol_master_key = load_or_create_secret(runtime.settings.data_dir / "keys" / "symbol.master")
    app.state.whitelist_versions = versions = WhitelistVersions()
    shipped_file = settings_of(runtime, BrokerSettings).whitelist_file
    shipped = await store_shipped_whitelist(runtime.database, await asyncio.to_thread(shipped_file.read_text, "utf-8"))
    async with runtime.database.sessions() as session:
        app.state.whitelist = await versions.in_force(session) or versions.remember(shipped)
    app.state.reissue_jobs = jobs = ReissueJobs(runtime, app.state.symbol_master_key)
    jobs.watch()


async def _stop_jobs(app: FastAPI, _runtime: Runtime) -> None:
    jobs: ReissueJobs = app.state.reissue_jobs
    await jobs.stop()


def create_app(settings: BrokerSettings | None = None) -> FastAPI:
    return create_service_app(
        title="Information provision network (broker)",
        settings=settings or BrokerSettings(),
        identity=IDENTITY,
        metadata=Base.metadata,
        routers=[
            registry_router,
            whitelist_router,
            symbols_router,
            queries_router,
            provision_records_router,
            provision_log_router,
            log_anchors_router,
            administrators_router,
            reissue_router,
            reissue_applications_router,
            notices_router,
        ],
        directory_factory=_registry_directory,
        on_startup=_load_broker_state,
        on_shutdown=_stop_jobs,
    )
