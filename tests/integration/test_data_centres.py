"""DOMAIN rule 9: east and west data centres back each other up; losing one loses no accepted
record. The whole network runs on east's PostgreSQL, replicated synchronously to west's; staff
queries keep arriving while east is lost; west is promoted, and every query the network answered
(and so recorded) is on west, and the network goes on there."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from devnet.data_centres import DataCentres, server_binaries
from devnet.enrolment import enrol_network
from devnet.launcher import LocalNetwork
from devnet.scenario import LinkageReport, ask_for_income_again, run_linkage_scenario
from tests.support import OPERATOR_TOKEN

BINARIES = server_binaries()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(BINARIES is None, reason="needs PostgreSQL's server binaries (Debian's postgresql)"),
]


@pytest.fixture
def data_centres() -> Iterator[DataCentres]:
    assert BINARIES is not None
    centres = DataCentres(BINARIES)
    try:
        centres.start()
        yield centres
    finally:
        centres.stop()


async def _create_databases(url: str, names: list[str]) -> None:
    connection = await asyncpg.connect(url)
    try:
        for name in names:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _query_ids(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        return {row["query_id"] for row in await connection.fetch("SELECT query_id FROM provision_records")}
    finally:
        await connection.close()


class StaffAtWork:
    """A 子育て支援課 clerk of 東村山市 asking 小平市 for the mover's income, again and again, in a
    thread: the query ids of the answers they got, and how many attempts failed."""

    def __init__(self, network: LocalNetwork, report: LinkageReport) -> None:
        self.urls, self.report = network.urls, report
        self.answered: list[str] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True)

    def _work(self) -> None:
        with httpx.Client(timeout=15, trust_env=False) as http:
            while not self._stop.is_set():
                try:
                    response = ask_for_income_again(http, self.urls, self.report)
                except httpx.HTTPError:
                    self.failed += 1
                    continue
                if response.status_code == 200:
                    self.answered.append(response.json()["query_id"])
                else:
                    self.failed += 1

    def __enter__(self) -> StaffAtWork:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def test_losing_east_loses_no_answered_query_and_the_network_goes_on_at_west(
    data_centres: DataCentres, tmp_path: Path
) -> None:
    network = LocalNetwork(
        var_dir=tmp_path / "network",
        variables={"OPERATOR_TOKEN": OPERATOR_TOKEN, "POSTGRES_PASSWORD": "unused", "JLIS_TEST_LOGIN_ENABLED": "true"},
        use_free_ports=True,
        postgres_url=data_centres.server_url(),
    )
    databases = network.database_names()
    asyncio.run(_create_databases(data_centres.direct_url("east", "postgres"), list(databases.values())))
    with network:
        enrol_network(network.urls, network.urls, OPERATOR_TOKEN)
        report = run_linkage_scenario(network.urls, OPERATOR_TOKEN, residents_per_city=5)
        with StaffAtWork(network, report) as clerk:
            wait_until(lambda: len(clerk.answered) >= 5)  # queries in flight when east goes dark
            data_centres.lose_east()
            answered_before_the_loss = len(clerk.answered)
            data_centres.promote_west()
            wait_until(lambda: len(clerk.answered) >= answered_before_the_loss + 3)  # answered at west
        at_west = asyncio.run(_query_ids(data_centres.direct_url("west", databases["broker"])))

    assert len(clerk.answered) >= answered_before_the_loss + 3
    assert [query_id for query_id in clerk.answered if query_id not in at_west] == []
    assert clerk.failed > 0, "east was lost while queries were arriving"


def wait_until(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.02)
