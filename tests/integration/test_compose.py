"""compose.yaml is the single topology: valid for Compose, and every app service in it starts
under the local launcher."""

from __future__ import annotations

import os
import shutil
import subprocess

import httpx
import pytest

from devnet.compose import COMPOSE_FILE, load_app_services
from tests.integration.conftest import LiveNetwork

pytestmark = pytest.mark.integration

EXPECTED = {
    "jlis",
    "broker",
    "portal",
    "higashimurayama-city",
    "higashimurayama-intermediate",
    "kodaira-city",
    "kodaira-intermediate",
    "tokorozawa-city",
    "tokorozawa-intermediate",
}


def test_compose_file_is_valid_for_docker_compose() -> None:
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is required (.ci/run installs Debian's package)"
    result = subprocess.run(
        [executable, "-f", str(COMPOSE_FILE), "config", "-q"],
        env={**os.environ, "OPERATOR_TOKEN": "x" * 32, "POSTGRES_PASSWORD": "y" * 16},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_declares_every_service_with_a_published_loopback_port() -> None:
    services = load_app_services({"OPERATOR_TOKEN": "x", "POSTGRES_PASSWORD": "y"})
    assert {s.name for s in services} == EXPECTED
    assert len({s.host_port for s in services}) == len(services)
    assert all(s.container_port == 8000 for s in services)


def test_every_compose_service_runs_under_the_local_launcher(live_network: LiveNetwork) -> None:
    assert set(live_network.network.services) == EXPECTED
    for name, url in live_network.network.urls.items():
        health = httpx.get(f"{url}/health", trust_env=False)
        assert health.status_code == 200, name
        identity = httpx.get(f"{url}/.well-known/institution", trust_env=False).json()
        assert health.json()["service"] == identity["key_id"]
