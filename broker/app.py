"""The broker service: `uvicorn --factory broker.app:create_app`."""

from fastapi import FastAPI

from broker.config import BrokerSettings
from broker.models import Base
from broker.provision_records.router import router as provision_records_router
from broker.queries.router import router as queries_router
from broker.registry.router import router as registry_router
from broker.registry.service import RegistryDirectory
from broker.symbols.router import router as symbols_router
from broker.whitelist.router import router as whitelist_router
from broker.whitelist.service import Whitelist
from services.app import Runtime, ServiceIdentity, create_service_app, settings_of
from services.db import Database
from services.http import ServiceClient
from services.keys import load_or_create_secret
from services.settings import ServiceSettings
from services.signing import KeyDirectory

IDENTITY = ServiceIdentity("broker", "情報提供ネットワークシステム", "broker", "broker")


def _registry_directory(database: Database, _client: ServiceClient, _settings: ServiceSettings) -> KeyDirectory:
    return RegistryDirectory(database)


async def _load_broker_state(app: FastAPI, runtime: Runtime) -> None:
    app.state.symbol_master_key = load_or_create_secret(runtime.settings.data_dir / "keys" / "symbol.master")
    app.state.whitelist = Whitelist.load(settings_of(runtime, BrokerSettings).whitelist_file)


def create_app(settings: BrokerSettings | None = None) -> FastAPI:
    return create_service_app(
        title="Information provision network (broker)",
        settings=settings or BrokerSettings(),
        identity=IDENTITY,
        metadata=Base.metadata,
        routers=[registry_router, whitelist_router, symbols_router, queries_router, provision_records_router],
        directory_factory=_registry_directory,
        on_startup=_load_broker_state,
    )
