"""Run the compose topology as local uvicorn processes (no container engine needed).

Each compose service becomes one process with the command, port and environment compose gives
it, rewritten for one machine: service hostnames → 127.0.0.1 and the service's port, database
URLs → a SQLite file per service (or a database per service on a local PostgreSQL), data
dirs → a folder per service under `var/`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from devnet.compose import ROOT, AppService, load_app_services


def free_port() -> int:
    [port] = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every probe stays bound until all are picked, since a port
    released at once may be handed out again to the next probe."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


@dataclass
class RunningService:
    spec: AppService
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class LocalNetwork:
    """Start, watch and stop every app service of compose.yaml on this machine."""

    var_dir: Path
    variables: Mapping[str, str]
    use_free_ports: bool = False
    postgres_url: str | None = None  # e.g. postgresql+asyncpg://postgres@127.0.0.1:5432
    database_prefix: str = ""
    only: frozenset[str] | None = None
    services: dict[str, RunningService] = field(default_factory=dict)

    def __post_init__(self) -> None:
        specs = load_app_services(self.variables)
        if self.only is not None:
            specs = [s for s in specs if s.name in self.only]
        ports = free_ports(len(specs)) if self.use_free_ports else [spec.host_port for spec in specs]
        for spec, port in zip(specs, ports, strict=True):
            self.services[spec.name] = RunningService(spec, port, self.var_dir / "logs" / f"{spec.name}.log")

    @property
    def urls(self) -> dict[str, str]:
        return {name: service.url for name, service in self.services.items()}

    def database_names(self) -> dict[str, str]:
        """Each service's PostgreSQL database name as compose gives it, with our prefix."""
        names = {}
        for name, service in self.services.items():
            for key, value in service.spec.environment.items():
                if key.endswith("_DATABASE_URL"):
                    names[name] = self.database_prefix + urlsplit(value).path.lstrip("/")
        return names

    def environment_for(self, service: RunningService) -> dict[str, str]:
        data_dir = self.var_dir / service.spec.name
        environment: dict[str, str] = {}
        for key, value in service.spec.environment.items():
            if key.endswith("_DATABASE_URL"):
                if self.postgres_url:
                    server = urlsplit(self.postgres_url)  # its query may name several hosts
                    value = urlunsplit(server._replace(path=f"/{self.database_names()[service.spec.name]}"))
                else:
                    value = f"sqlite+aiosqlite:///{data_dir / 'service.db'}"
            elif key.endswith("_DATA_DIR"):
                value = str(data_dir)
            else:
                value = self._local_url(value)
            environment[key] = value
        return environment

    def _local_url(self, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.hostname in self.services:
            local = self.services[parts.hostname]
            return urlunsplit((parts.scheme, f"127.0.0.1:{local.port}", parts.path, parts.query, parts.fragment))
        return value

    def command_for(self, service: RunningService) -> list[str]:
        command = list(service.spec.command)
        if command[0] == "python":
            command[0] = sys.executable
        for flag, value in (("--host", "127.0.0.1"), ("--port", str(service.port))):
            if flag in command:
                command[command.index(flag) + 1] = value
        return command

    def start(self) -> None:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        base_environment = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_DATA_DIR"))}
        for service in self.services.values():
            log = service.log_path.open("ab")
            service.process = subprocess.Popen(
                self.command_for(service),
                cwd=ROOT,
                env={**base_environment, **self.environment_for(service)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()

    def wait_healthy(self, timeout_seconds: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        pending = dict(self.services)
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while pending:
                for name, service in list(pending.items()):
                    if service.process is not None and service.process.poll() is not None:
                        raise RuntimeError(f"{name} exited with {service.process.returncode}:\n{service.log_tail()}")
                    try:
                        if client.get(f"{service.url}/health").status_code == 200:
                            del pending[name]
                    except httpx.TransportError:
                        pass
                if pending and time.monotonic() > deadline:
                    tails = "\n".join(f"--- {n}\n{s.log_tail()}" for n, s in pending.items())
                    raise TimeoutError(f"not healthy after {timeout_seconds:.0f} s: {sorted(pending)}\n{tails}")
                if pending:
                    time.sleep(0.1)

    def stop(self) -> None:
        for service in self.services.values():
            if service.process is not None and service.process.poll() is None:
                os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for service in self.services.values():
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()

    def __enter__(self) -> LocalNetwork:
        try:
            self.start()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
