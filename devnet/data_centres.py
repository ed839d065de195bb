"""East and west data centres (DOMAIN rule 9) as two local PostgreSQL servers: east the primary,
west a streaming standby that east's commits wait for (synchronous replication), so a record any
service was told is stored is on both. Losing east, west is promoted and takes the writes; the
services reach whichever is primary through one URL naming both hosts
(`target_session_attrs=read-write`) and drop dead connections by pre-ping.

PostgreSQL's own replication, nothing home-made. Promotion is a command here; a deployment would
leave it to a failover manager (Patroni, pg_auto_failover) watching both. Run by the tests with
the server binaries of Debian's postgresql package; as root, the servers run as `postgres`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from devnet.launcher import free_ports

STANDBY_NAME = "west"  # east's synchronous_standby_names, west's application_name


def server_binaries() -> Path | None:
    """The folder of initdb, pg_ctl and pg_basebackup, or None where PostgreSQL's server is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # e.g. a link in /usr/local/bin to Debian's folder
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class DataCentres:
    """Both servers, under `root`, on free ports; `start()` brings them up, `stop()` down."""

    binaries: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mn-data-centres-")))
    east_port: int = 0
    west_port: int = 0

    def __post_init__(self) -> None:
        if not (self.east_port and self.west_port):
            self.east_port, self.west_port = free_ports(2)
        os.chmod(self.root, 0o755)  # noqa: S103 - the servers' user must reach its data folders
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def east(self) -> Path:
        return self.root / "east"

    @property
    def west(self) -> Path:
        return self.root / "west"

    def server_url(self) -> str:
        """One URL for the services: both hosts, the primary of the moment chosen at connect."""
        hosts = f"host=127.0.0.1:{self.east_port}&host=127.0.0.1:{self.west_port}"
        return f"postgresql+asyncpg://postgres@?{hosts}&target_session_attrs=read-write"

    def direct_url(self, centre: str, database: str) -> str:
        """A plain asyncpg DSN to one centre's server, for checking what it holds."""
        port = self.east_port if centre == "east" else self.west_port
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(  # noqa: S603
            [*as_postgres, *command], capture_output=True, text=True, cwd=self.root, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}")

    def _pg(self, tool: str) -> str:
        return str(self.binaries / tool)

    def start(self) -> None:
        self._run(self._pg("initdb"), "-D", str(self.east), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        _configure(
            self.east / "postgresql.conf",
            port=self.east_port,
            listen_addresses="'127.0.0.1'",
            unix_socket_directories=f"'{self.root}'",
            wal_level="replica",
            max_wal_senders=4,
            synchronous_commit="on",
            synchronous_standby_names=f"'{STANDBY_NAME}'",
            fsync="off",  # the drills stop a server, they do not crash a machine
        )
        self._pg_ctl(self.east, "start")
        self._run(
            self._pg("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.east_port),
            "-U",
            "postgres",
            "-D",
            str(self.west),
            "-R",
            "-X",
            "stream",
        )
        _configure(
            self.west / "postgresql.auto.conf",
            port=self.west_port,
            synchronous_standby_names="''",  # east's, copied: once promoted, west waits for nobody
            primary_conninfo=f"'host=127.0.0.1 port={self.east_port} user=postgres application_name={STANDBY_NAME}'",
        )
        self._pg_ctl(self.west, "start")
        self._wait_until_west_is_synchronous()

    def _pg_ctl(self, data: Path, action: str, *options: str) -> None:
        self._run(
            self._pg("pg_ctl"), "-D", str(data), "-l", str(data.parent / f"{data.name}.log"), "-w", action, *options
        )

    def _wait_until_west_is_synchronous(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        query = f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"  # noqa: S608 - a constant
        while time.monotonic() < deadline:
            state = subprocess.run(  # noqa: S603
                [self._pg("psql"), "-h", "127.0.0.1", "-p", str(self.east_port), "-U", "postgres", "-tAc", query],
                capture_output=True,
                text=True,
                check=False,
            )
            if state.stdout.strip() == "sync":
                return
            time.sleep(0.2)
        raise RuntimeError(f"west did not become east's synchronous standby within {timeout} s")

    def lose_east(self) -> None:
        """East's data centre goes dark: its server stops at once, nothing flushed on the way out."""
        self._pg_ctl(self.east, "stop", "-m", "immediate")

    def promote_west(self) -> None:
        """West takes over as primary (a failover manager's decision in a deployment)."""
        self._pg_ctl(self.west, "promote")

    def stop(self) -> None:
        with ExitStack() as stack:
            for data in (self.west, self.east):
                if (data / "postmaster.pid").exists():
                    stack.callback(self._pg_ctl, data, "stop", "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)


def _configure(conf: Path, **settings: object) -> None:
    """Append `name = value` lines to a server's configuration file (the last line of a name wins)."""
    with conf.open("a", encoding="utf-8") as file:
        file.writelines(f"{name} = {value}\n" for name, value in settings.items())
