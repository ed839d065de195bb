"""Fixtures for J-LIS tests; `tests/unit/services` imports them too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import InProcessNetwork
from tests.unit.jlis.network import jlis_network


@pytest.fixture
def jlis_options() -> dict[str, Any]:
    """Extra J-LIS settings; a test overrides it with
    `@pytest.mark.parametrize("jlis_options", [{"test_login_enabled": True}])`."""
    return {}


@pytest.fixture
async def network(
    tmp_path: Path, database_url_factory: Callable[[str], str], jlis_options: dict[str, Any]
) -> AsyncIterator[InProcessNetwork]:
    """J-LIS, the broker and two cities, started in-process with fresh databases."""
    async with jlis_network(tmp_path, database_url_factory, **jlis_options) as network:
        yield network
