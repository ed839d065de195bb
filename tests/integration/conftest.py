"""One real network for the integration tests: every app service of compose.yaml started as its
own uvicorn process on a free port (SQLite files, or PostgreSQL databases with
TEST_POSTGRES_URL), enrolled at the broker, with the linkage scenario already run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.enrolment import enrol_network
from devnet.launcher import LocalNetwork
from devnet.scenario import LinkageReport, run_linkage_scenario
from tests.support import OPERATOR_TOKEN, TEST_POSTGRES_URL, create_postgres_database, drop_postgres_database


@dataclass
class LiveNetwork:
    network: LocalNetwork
    report: LinkageReport

    def url(self, service: str) -> str:
        return self.network.urls[service]

    def database_url(self, service: str) -> str:
        environment = self.network.environment_for(self.network.services[service])
        return next(value for key, value in environment.items() if key.endswith("_DATABASE_URL"))

    def log_text(self, service: str) -> str:
        return self.network.services[service].log_path.read_text(errors="replace")

    def data_dir(self, service: str) -> Path:
        return self.network.var_dir / service


@pytest.fixture(scope="session")
def live_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNetwork]:
    var_dir: Path = tmp_path_factory.mktemp("network")
    network = LocalNetwork(
        var_dir=var_dir,
        variables={
            "OPERATOR_TOKEN": OPERATOR_TOKEN,
            "POSTGRES_PASSWORD": "unused-locally",
            "JLIS_TEST_LOGIN_ENABLED": "true",
        },
        use_free_ports=True,
        postgres_url=TEST_POSTGRES_URL or None,
        database_prefix=f"mn_it_{uuid.uuid4().hex[:6]}_",
    )
    databases = list(network.database_names().values()) if TEST_POSTGRES_URL else []
    for name in databases:
        create_postgres_database(name)
    try:
        with network:
            enrol_network(network.urls, network.urls, OPERATOR_TOKEN)
            yield LiveNetwork(network, run_linkage_scenario(network.urls, OPERATOR_TOKEN, residents_per_city=15))
    finally:
        for name in databases:
            drop_postgres_database(name)
