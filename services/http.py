"""The one outbound HTTP client a service keeps: httpx's API over aiohttp, signing every call.

httpx's default transport is several times slower under concurrent load on our machines, so
calls go through `httpx-aiohttp`'s `AiohttpTransport`. Failures of the callee surface as
`UpstreamError` carrying its status and problem `code`, so a refusal passes through unchanged.

Each call has one deadline, `request_timeout_seconds` from sending to the last byte of the
answer (httpx's timeouts are per phase: a callee that trickles bytes would never trip them). A
callee that misses it is 504 `upstream_timeout`; one that cannot be reached is 503
`upstream_unavailable`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from services.keys import ServiceKeys
from services.problems import UpstreamError
from services.signing import RequestSigner


def new_async_client(timeout_seconds: float, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
    """Create inside a running event loop (the app's lifespan): aiohttp binds to it."""
    return httpx.AsyncClient(
        transport=AiohttpTransport(trust_env=False, limits=httpx.Limits(max_connections=200)),
        timeout=httpx.Timeout(timeout_seconds),
        auth=auth,
        trust_env=False,
    )


class ServiceClient:
    """Signed JSON calls to other services of the network."""

    def __init__(self, keys: ServiceKeys, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.http = new_async_client(timeout_seconds, auth=RequestSigner(keys))

    async def call(self, method: str, url: str, json: Any = None, *, upstream: str) -> Any:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self.http.request(method, url, json=json)
        except TimeoutError as exc:
            raise self._timed_out(upstream) from exc
        except httpx.TransportError as exc:
            if timed_out(exc):
                raise self._timed_out(upstream) from exc
            raise UpstreamError("upstream_unavailable", f"{upstream} could not be reached.", status=503) from exc
        if response.status_code >= 400:
            raise upstream_error(response, upstream)
        return response.json() if response.content else None

    def _timed_out(self, upstream: str) -> UpstreamError:
        return UpstreamError(
            "upstream_timeout", f"{upstream} did not answer within {self.timeout_seconds:g} s.", status=504
        )

    async def aclose(self) -> None:
        await self.http.aclose()


def timed_out(exc: httpx.TransportError) -> bool:
    """Whether the callee was slow rather than unreachable. `httpx-aiohttp` maps every aiohttp
    connection error to `httpx.ConnectTimeout` (a refused connection too), so its cause decides:
    aiohttp's own timeouts are `TimeoutError`s."""
    if exc.__cause__ is not None:
        return isinstance(exc.__cause__, TimeoutError)
    return isinstance(exc, httpx.TimeoutException)


def upstream_error(response: httpx.Response, upstream: str) -> UpstreamError:
    """Carry the callee's refusal (status and code) back to our caller, naming who refused."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    code = str(problem.get("code") or "upstream_error")
    detail = str(problem.get("detail") or f"{upstream} answered {response.status_code}.")
    # A refusal (4xx) or an unavailable/slow service further on (503/504) passes through as it is;
    # anything else the callee got wrong is our bad gateway.
    status = response.status_code if response.status_code < 500 or response.status_code in (503, 504) else 502
    return UpstreamError(code, detail, status=status, upstream=upstream)
