"""Common wiring of a service app: lifespan (keys, database, outbound client, key directory),
problem handlers, `/health`, `/.well-known/institution`, `POST /operations/keys/next`, and the
dependencies routers use.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request, status
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.directory import BrokerDirectory
from services.http import ServiceClient
from services.keys import KeyGeneration, NextKeyPending, ServiceKeys, load_or_create_keys
from services.problems import Conflict, Unauthenticated, install_problem_handlers
from services.rbac import Caller
from services.settings import ServiceSettings
from services.signing import KeyDirectory, SignatureVerifier


@dataclass(frozen=True)
class ServiceIdentity:
    """Which institution this process belongs to and which of its components it is."""

    institution_code: str
    institution_name: str
    institution_kind: str  # municipality | jlis | broker | portal
    component: str  # city | intermediate | jlis | broker | portal

    @property
    def key_id(self) -> str:
        return f"{self.institution_code}.{self.component}"


@dataclass
class Runtime:
    """Everything a running service holds for its lifetime; built in the lifespan, never at import."""

    settings: ServiceSettings
    identity: ServiceIdentity
    database: Database
    keys: ServiceKeys
    client: ServiceClient
    directory: KeyDirectory
    verifier: SignatureVerifier


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
DirectoryFactory = Callable[[Database, ServiceClient, ServiceSettings], KeyDirectory]
LifecycleHook = Callable[[FastAPI, Runtime], Awaitable[None]]


class NextKeyIn(BaseModel):
    """When the next key takes over: the same time the administrator announces at the broker."""

    activates_at: AwareDatetime


class KeyGenerationOut(BaseModel):
    """One of the service's key generations, public halves only."""

    key_id: str
    generation: int
    signing_public_key: str
    encryption_public_key: str
    activates_at: datetime | None  # None for generation 1, in force since enrolment
    signing: bool  # whether the service signs with it now

    @classmethod
    def of(cls, generation: KeyGeneration, current: KeyGeneration) -> KeyGenerationOut:
        return cls(
            key_id=generation.key_id,
            generation=generation.generation,
            signing_public_key=generation.signing_public_b64(),
            encryption_public_key=generation.encryption_public_b64(),
            activates_at=generation.activates_at,
            signing=generation.generation == current.generation,
        )


def broker_directory(_database: Database, client: ServiceClient, settings: ServiceSettings) -> KeyDirectory:
    return BrokerDirectory(client.http, settings.broker_url)


def create_service_app(
    *,
    title: str,
    settings: ServiceSettings,
    identity: ServiceIdentity,
    metadata: MetaData,
    routers: Sequence[APIRouter],
    directory_factory: DirectoryFactory = broker_directory,
    on_startup: LifecycleHook | None = None,
    on_shutdown: LifecycleHook | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        keys = load_or_create_keys(settings.data_dir / "keys", identity.key_id)
        database = Database(settings.database_url)
        await database.create_tables(metadata)
        client = ServiceClient(keys, settings.request_timeout_seconds)
        directory = directory_factory(database, client, settings)
        runtime = Runtime(
            settings=settings,
            identity=identity,
            database=database,
            keys=keys,
            client=client,
            directory=directory,
            verifier=SignatureVerifier(directory, database, settings.signature_window_seconds),
        )
        app.state.runtime = runtime
        if on_startup is not None:
            await on_startup(app, runtime)
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown(app, runtime)
            await client.aclose()
            await database.dispose()

    app = FastAPI(title=title, lifespan=lifespan)
    install_problem_handlers(app)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": identity.key_id}

    @app.get("/.well-known/institution", tags=["operations"])
    async def institution(request: Request) -> dict[str, Any]:
        """Public identity and keys, read by the operator who enrols this component at the broker:
        the enrolled keys (generation 1, under `key_id`), then every generation the service holds
        and the key id it signs with now."""
        keys: ServiceKeys = request.app.state.runtime.keys
        current = keys.current()
        return {
            "institution_code": identity.institution_code,
            "institution_name": identity.institution_name,
            "institution_kind": identity.institution_kind,
            "component": identity.component,
            "key_id": identity.key_id,
            "signing_public_key": keys.enrolled.signing_public_b64(),
            "encryption_public_key": keys.enrolled.encryption_public_b64(),
            "signing_key_id": current.key_id,
            "key_generations": [KeyGenerationOut.of(g, current).model_dump(mode="json") for g in keys.generations()],
        }

    @app.post(
        "/operations/keys/next",
        tags=["operations"],
        response_model=KeyGenerationOut,
        status_code=status.HTTP_201_CREATED,
    )
    async def prepare_next_key(body: NextKeyIn, _operator: Operator, runtime: RuntimeDep) -> KeyGenerationOut:
        """Prepare the service's next key pair (鍵の更新), signing from `activates_at`.

        An operator endpoint rather than a CLI beside the service: any replica answers it, with
        the identity (hence the key id) it runs as, and writes the generation to the key dir in
        the data dir every replica shares, where the others find it on their next signature; no
        shell on the service's volume is needed, and the answer holds the public keys the
        administrator announces at the broker (`python -m devnet.admin keys announce`) with the
        same `activates_at`. Refused (409 `next_key_pending`) while a prepared key is not active
        yet, so the service's generations stay numbered as the broker's.
        """
        try:
            prepared = runtime.keys.prepare_next(body.activates_at)
        except NextKeyPending as exc:
            raise Conflict("next_key_pending", str(exc)) from exc
        return KeyGenerationOut.of(prepared, runtime.keys.current())

    for router in routers:
        app.include_router(router)
    return app


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def db_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async for session in runtime.database.session():
        yield session


# Scope "function": the transaction commits before the response is sent, so a client that acts on
# a response (e.g. uses the session it was just given) always finds what the response promised,
# and a failed commit is an error response, never a success that did not happen.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


async def signed_caller(request: Request, runtime: RuntimeDep) -> Caller:
    body = await request.body()
    return await runtime.verifier.verify(request.method, str(request.url), request.headers, body)


SignedCaller = Annotated[Caller, Depends(signed_caller)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("bearer_token_missing", "Send `Authorization: Bearer <token>`.")
    return token.strip()


def require_operator(request: Request, runtime: RuntimeDep) -> None:
    """The service's operator (an administrator with the deployment's operator token)."""
    expected = runtime.settings.operator_token
    token = bearer_token(request)
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthenticated("operator_token_invalid", "The operator token is wrong or not configured.")


Operator = Annotated[None, Depends(require_operator)]


def settings_of(runtime: Runtime, kind: type[SettingsT]) -> SettingsT:
    """The runtime's settings as the service's own settings class."""
    if not isinstance(runtime.settings, kind):
        raise TypeError(f"{type(runtime.settings).__name__} is not {kind.__name__}")
    return runtime.settings
