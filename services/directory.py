"""Public keys and addresses of other components, read from the broker's registry.

The broker's institution registry is the network's key directory (DOMAIN: the broker keeps a
registry of institutions). Other services look keys up over HTTP and cache them briefly, so a
key registered or replaced at the broker takes effect within `ttl_seconds`.
"""

from __future__ import annotations

import time

import httpx

from services.signing import RegisteredKey


class BrokerDirectory:
    def __init__(self, http: httpx.AsyncClient, broker_url: str, ttl_seconds: float = 60.0) -> None:
        self.http = http
        self.broker_url = broker_url.rstrip("/")
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, RegisteredKey]] = {}

    async def resolve(self, key_id: str) -> RegisteredKey | None:
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        response = await self.http.get(f"{self.broker_url}/registry/keys/{key_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        registered = RegisteredKey(**response.json())
        self._cache[key_id] = (time.monotonic() + self.ttl, registered)
        return registered
