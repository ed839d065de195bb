"""A resident's own provision records (情報提供等記録), fetched from the broker by the portal's
symbol for them; the broker resolves the person and returns names, never symbols."""

from __future__ import annotations

from typing import Any

from services.app import Runtime


async def my_provision_records(runtime: Runtime, symbol: str) -> list[dict[str, Any]]:
    answer = await runtime.client.call(
        "POST", f"{runtime.settings.broker_url}/provision-records/search", {"symbol": symbol}, upstream="broker"
    )
    records: list[dict[str, Any]] = answer["records"]
    return records
