"""Root fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import drop_pooled_databases, fresh_database_url

# A loaded 2-core CI machine now and then stalls an example past hypothesis's 200 ms deadline,
# which says nothing about correctness: no property test has a deadline.
settings.register_profile("mynumber-net", deadline=None)
settings.load_profile("mynumber-net")


@pytest.fixture
def database_url_factory(tmp_path: Path) -> Iterator[object]:
    """Call with a label to get a fresh database URL; all are dropped after the test."""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def make(label: str) -> str:
            return stack.enter_context(fresh_database_url(tmp_path, label))

        yield make


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL databases the run made (nothing to do on SQLite)."""
    drop_pooled_databases()
