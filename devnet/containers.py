"""`make compose-up / compose-down / compose-test`: the network in real containers, offline.

No image registry is reachable, so everything is built here and cached under `var/docker/`:
a Docker engine (Debian's `docker.io`) with its data, socket and pid file in the project, two
base images made with debootstrap from the Debian mirror this machine's apt already uses (one
with Python, one with PostgreSQL), a wheelhouse from `uv.lock`, and the app image built from
the Dockerfile with `pip install --no-index`. Everything this starts, it stops by pid.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import httpx

from devnet.compose import COMPOSE_FILE, ROOT, load_app_services
from devnet.enrolment import enrol_network
from devnet.scenario import LinkageReport, ask_for_income_again, run_linkage_scenario
from devnet.secrets import ensure_env_file

DOCKER_DIR = ROOT / "var" / "docker"
WHEELHOUSE = ROOT / "wheelhouse"
PROJECT = "mynumber-net"
BASE_IMAGE = "mynumber-net/base:bookworm"
POSTGRES_BASE_IMAGE = "mynumber-net/postgres-base:bookworm"
POSTGRES_IMAGE = "mynumber-net/postgres:bookworm"
APP_IMAGE = "mynumber-net/app:latest"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
POSTGRES_PACKAGES = "postgresql,ca-certificates"


def say(message: str) -> None:
    print(f"[compose] {message}", flush=True)


def socket_path() -> Path:
    """Unix socket paths are limited to 107 bytes; fall back to /tmp for deep checkouts."""
    preferred = DOCKER_DIR / "docker.sock"
    if len(str(preferred)) < 100:
        return preferred
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"mynumber-net-docker-{digest}.sock"


def docker_environment() -> dict[str, str]:
    return {**os.environ, "DOCKER_HOST": f"unix://{socket_path()}"}


def run(
    command: Sequence[str],
    *,
    check: bool = True,
    capture: bool = False,
    quiet: bool = False,
    env: dict[str, str] | None = None,
    stdin: IO[bytes] | None = None,
) -> str:
    """Run a command; `capture` returns its output, `quiet` hides it unless the command fails."""
    result = subprocess.run(
        list(command),
        env=env if env is not None else docker_environment(),
        text=True,
        stdin=stdin,
        stdout=subprocess.PIPE if capture or quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
    )
    if check and result.returncode != 0:
        if quiet:
            print(result.stdout[-4000:], file=sys.stderr)
        raise subprocess.CalledProcessError(result.returncode, list(command))
    return result.stdout or ""


def engine_ready() -> bool:
    return subprocess.run(["docker", "info"], env=docker_environment(), capture_output=True).returncode == 0


def install_tools() -> None:
    missing = [
        tool for tool in ("dockerd", "docker", "docker-compose", "debootstrap", "runc") if not shutil.which(tool)
    ]
    if missing:
        say(f"installing {', '.join(missing)} from Debian's packages")
        run(["apt-get", "update", "-qq"], env=dict(os.environ), quiet=True)
        packages = ["docker.io", "docker-compose", "runc", "debootstrap"]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "install", "-y", "-qq", *packages], env=environment, quiet=True)


def start_engine() -> bool:
    """Start dockerd unless one already answers on our socket; True when this call started it."""
    if engine_ready():
        return False
    DOCKER_DIR.mkdir(parents=True, exist_ok=True)
    log = (DOCKER_DIR / "dockerd.log").open("ab")
    subprocess.Popen(
        [
            "dockerd",
            "--data-root",
            str(DOCKER_DIR / "data"),
            "--exec-root",
            str(DOCKER_DIR / "exec"),
            "--pidfile",
            str(DOCKER_DIR / "dockerd.pid"),
            "-H",
            f"unix://{socket_path()}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not engine_ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"dockerd did not start; see {DOCKER_DIR / 'dockerd.log'}")
        time.sleep(0.5)
    say(f"engine started (socket {socket_path()})")
    return True


def _alive(pid: int) -> bool:
    """True while `pid` runs; reaps it when it is our own exited child (else it lingers as a zombie)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # started by an earlier `make compose-up`: not ours to reap
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_engine() -> None:
    pid_file = DOCKER_DIR / "dockerd.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip() or 0)
    if pid <= 0 or not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            say("engine killed after 30 s")
            return
        time.sleep(0.2)
    say("engine stopped")


def image_exists(tag: str) -> bool:
    command = ["docker", "image", "inspect", tag]
    return subprocess.run(command, env=docker_environment(), capture_output=True).returncode == 0


def debian_mirror() -> str:
    """The Debian mirror apt already uses here (never a hard-coded host)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for source in sources:
        for block in source.read_text().split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", block, re.MULTILINE)
            suites = re.search(r"^Suites:\s*(.+)$", block, re.MULTILINE)
            if uris and suites and "bookworm" in suites.group(1).split():
                return uris.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm":
                return parts[1]
    raise RuntimeError("no bookworm mirror in this machine's apt sources")


def debootstrap_image(tag: str, packages: str) -> None:
    """A minimal Debian bookworm root filesystem imported as an image (cached by tag)."""
    if image_exists(tag):
        return
    rootfs = DOCKER_DIR / "rootfs" / tag.replace("/", "_").replace(":", "_")
    if rootfs.exists():
        shutil.rmtree(rootfs)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {tag} ({packages})")
    run(
        ["debootstrap", "--variant=minbase", f"--include={packages}", "bookworm", str(rootfs), debian_mirror()],
        env=dict(os.environ),
        quiet=True,
    )
    shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    run(["docker", "import", "-", tag], stdin=tar.stdout, quiet=True)
    if tar.wait() != 0:
        raise RuntimeError(f"tar of {rootfs} failed")
    shutil.rmtree(rootfs)


def build_wheelhouse() -> None:
    """`make wheels`: every locked runtime dependency as a wheel, for offline image builds."""
    WHEELHOUSE.mkdir(exist_ok=True)
    requirements = WHEELHOUSE / "requirements.txt"
    exported = run(
        ["python3", "-m", "uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"],
        capture=True,
        env=dict(os.environ),
    )
    stamp = WHEELHOUSE / ".complete"
    if requirements.exists() and requirements.read_text() == exported and stamp.exists():
        return
    stamp.unlink(missing_ok=True)
    requirements.write_text(exported)
    say("building the wheelhouse from uv.lock")
    run(
        ["python3", "-m", "pip", "wheel", "-q", "-r", str(requirements), "-w", str(WHEELHOUSE)],
        env=dict(os.environ),
        quiet=True,
    )
    stamp.touch()


def build_images() -> None:
    debootstrap_image(BASE_IMAGE, BASE_PACKAGES)
    debootstrap_image(POSTGRES_BASE_IMAGE, POSTGRES_PACKAGES)
    run(["docker", "build", "-t", POSTGRES_IMAGE, str(ROOT / "deploy" / "postgres")], quiet=True)  # cached layers
    build_wheelhouse()
    say("building the app image (offline, from the wheelhouse)")
    run(["docker", "build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", APP_IMAGE, str(ROOT)], quiet=True)


def compose_command(*args: str, extra_files: Sequence[Path] = ()) -> list[str]:
    files = [arg for path in (COMPOSE_FILE, *extra_files) for arg in ("-f", str(path))]
    return ["docker-compose", "-p", PROJECT, "--project-directory", str(ROOT), *files, *args]


def compose_environment() -> dict[str, str]:
    return {
        **docker_environment(),
        **ensure_env_file(),
        "BASE_IMAGE": BASE_IMAGE,
        "POSTGRES_IMAGE": POSTGRES_IMAGE,
        "JLIS_TEST_LOGIN_ENABLED": os.environ.get("JLIS_TEST_LOGIN_ENABLED", "true"),
    }


def compose(*args: str, extra_files: Sequence[Path] = (), capture: bool = False) -> str:
    return run(compose_command(*args, extra_files=extra_files), env=compose_environment(), capture=capture)


def wait_healthy(extra_files: Sequence[Path], timeout_seconds: float) -> list[str]:
    """Poll every container's health; fail fast, with the log tail, on one that dies or is unhealthy."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        ids = compose("ps", "-q", extra_files=extra_files, capture=True).split()
        states: dict[str, str] = {}
        for container in ids:
            name, status, health = run(
                ["docker", "inspect", "--format",
                 '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} '
                 "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", container],
                capture=True,
            ).split()  # fmt: skip
            states[name] = health if status == "running" else status
        failed = [name for name, state in states.items() if state in ("unhealthy", "exited", "dead", "restarting")]
        if failed:
            raise RuntimeError(f"not healthy: {failed}\n{log_tails(failed, extra_files)}")
        if states and all(state == "healthy" for state in states.values()):
            return sorted(states)
        if time.monotonic() > deadline:
            waiting = [name for name, state in states.items() if state != "healthy"]
            raise TimeoutError(
                f"still not healthy after {timeout_seconds:.0f} s: {waiting}\n{log_tails(waiting, extra_files)}"
            )
        time.sleep(1)


def log_tails(services: Sequence[str], extra_files: Sequence[Path]) -> str:
    return compose("logs", "--no-color", "--tail", "40", *services, extra_files=extra_files, capture=True)


def compose_up(extra_files: Sequence[Path] = (), timeout_seconds: float = 180) -> dict[str, str]:
    """Build what is missing, start every container, wait until healthy, enrol every component
    at the broker; returns each app service's URL on this machine."""
    install_tools()
    start_engine()
    build_images()
    say("docker-compose up -d")
    compose("up", "-d", "--no-build", "--remove-orphans", extra_files=extra_files)
    healthy = wait_healthy(extra_files, timeout_seconds)
    say(f"healthy: {', '.join(healthy)}")
    services = load_app_services(ensure_env_file())
    host_urls = {s.name: f"http://127.0.0.1:{s.host_port}" for s in services}
    network_urls = {s.name: f"http://{s.name}:{s.container_port}" for s in services}
    enrol_network(host_urls, network_urls, ensure_env_file()["OPERATOR_TOKEN"])
    say("enrolled every component at the broker")
    return host_urls


def compose_down(extra_files: Sequence[Path] = ()) -> None:
    if engine_ready():
        compose("down", "-v", "--remove-orphans", extra_files=extra_files)
    stop_engine()


def compose_test(extra_files: Sequence[Path] = ()) -> None:
    """Up, run the same linkage scenario as the local integration test against the published
    ports, check the provision record, then down -v and stop the engine: nothing left running."""
    started = time.monotonic()
    try:
        host_urls = compose_up(extra_files)
        report = run_linkage_scenario(host_urls, ensure_env_file()["OPERATOR_TOKEN"], residents_per_city=10)
        provided = [r for r in report.steps["broker provision records"].body if r["outcome"] == "provided"]
        if len(provided) != 1 or provided[0]["provider_code"] != "132110":
            raise RuntimeError(f"expected one provision from 小平市, got {provided}")
        record = provided[0]
        say(
            f"provision record: {record['requested_at']} {record['requester_code']} ← {record['provider_code']} "
            f"{record['procedure_code']} {record['item_codes']} {record['outcome']} (row {record['whitelist_row']})"
        )
        lose_east_and_go_on_at_west(host_urls, report, extra_files)
        say(f"compose test passed in {time.monotonic() - started:.0f} s")
    finally:
        compose_down(extra_files)


def psql(service: str, database: str, query: str, extra_files: Sequence[Path]) -> list[str]:
    """The query's rows, one line each, run in a PostgreSQL container."""
    command = ("exec", "-T", service, "psql", "-U", "postgres", "-d", database, "-tAc", query)
    return compose(*command, extra_files=extra_files, capture=True).split("\n")[:-1]


def lose_east_and_go_on_at_west(host_urls: dict[str, str], report: LinkageReport, extra_files: Sequence[Path]) -> None:
    """DOMAIN rule 9, in containers: west is east's synchronous standby; east is killed, west is
    promoted, and every provision the broker recorded is on west, where the network goes on."""
    replication = psql(
        "postgres", "postgres", "SELECT application_name || ' ' || sync_state FROM pg_stat_replication", extra_files
    )
    if replication != ["west sync"]:
        raise RuntimeError(f"west is not east's synchronous standby: {replication}")
    records = "SELECT query_id FROM provision_records"
    at_east = set(psql("postgres", "broker", records, extra_files))
    compose("kill", "postgres", extra_files=extra_files)
    lost = time.monotonic()
    say(f"east killed with {len(at_east)} provision records; promoting west")
    psql("postgres-west", "postgres", "SELECT pg_promote()", extra_files)
    answer = _answered_at_west(host_urls, report, within_seconds=120)
    say(f"answered at west {time.monotonic() - lost:.0f} s after east was lost")
    at_west = set(psql("postgres-west", "broker", records, extra_files))
    if missing := at_east - at_west:
        raise RuntimeError(f"provision records lost with east: {sorted(missing)}")
    if answer.json()["query_id"] not in at_west:
        raise RuntimeError("the query answered at west is not recorded there")
    say(f"west holds all {len(at_east)} records and answered query {answer.json()['query_id']}")


def _answered_at_west(host_urls: dict[str, str], report: LinkageReport, within_seconds: float) -> httpx.Response:
    """The scenario's query, asked until answered: until west is promoted and every service's pool
    has let go of east, asks fail or time out."""
    deadline, last = time.monotonic() + within_seconds, "nothing yet"
    with httpx.Client(timeout=30, trust_env=False) as http:
        while time.monotonic() < deadline:
            try:
                answer = ask_for_income_again(http, host_urls, report)
            except httpx.HTTPError as error:
                last = repr(error)
            else:
                if answer.status_code == 200:
                    return answer
                last = f"{answer.status_code} {answer.text}"
            time.sleep(1)
    raise RuntimeError(f"no answer at west within {within_seconds:.0f} s: {last}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.containers")
    parser.add_argument("action", choices=["up", "down", "test", "wheels"])
    parser.add_argument("-f", "--extra-file", action="append", type=Path, default=[],
                        help="an extra compose file layered over compose.yaml (e.g. to inject a fault)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            compose_up(args.extra_file)
        elif args.action == "down":
            compose_down(args.extra_file)
        elif args.action == "wheels":
            build_wheelhouse()
        else:
            compose_test(args.extra_file)
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as error:
        print(f"[compose] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
