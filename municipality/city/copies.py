"""Pushing copies (副本) from one of the city's source systems to its intermediate server.

Every source system sends its rows as one batch named by its source code in the intermediate
server's item catalogue; the intermediate server registers all of it or none, and a refusal
fails the request that caused the push, so the source's own change rolls back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from municipality.city.config import CitySettings
from services.http import ServiceClient


async def push_copies(
    client: ServiceClient, settings: CitySettings, source: str, copies: Sequence[dict[str, Any]]
) -> int:
    if not copies:
        return 0
    batch = {"source": source, "expected_rows": len(copies), "copies": list(copies)}
    answer = await client.call("POST", f"{settings.intermediate_url}/copies", batch, upstream="intermediate server")
    return int(answer["registered"])
