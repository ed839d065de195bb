"""Reading `compose.yaml`: the one description of the network that both runners use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


@dataclass(frozen=True)
class AppService:
    """One of our own services as compose declares it (infrastructure images are left out)."""

    name: str
    command: tuple[str, ...]
    container_port: int
    host_port: int
    environment: Mapping[str, str]


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose-style `${VAR}`, `${VAR:-default}` and `${VAR:?error}` substitution."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        value = variables.get(name, "")
        if value:
            return value
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            raise KeyError(f"{name} is not set: {argument}")
        return ""

    return _VARIABLE.sub(substitute, text)


def load_app_services(variables: Mapping[str, str], path: Path = COMPOSE_FILE) -> list[AppService]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    services: list[AppService] = []
    for name, spec in document["services"].items():
        if "build" not in spec:
            continue
        published, _, container = str(spec["ports"][0]).rpartition(":")
        services.append(
            AppService(
                name=name,
                command=tuple(interpolate(str(part), variables) for part in spec["command"]),
                container_port=int(container),
                host_port=int(published.rpartition(":")[2]),
                environment={key: interpolate(str(value), variables) for key, value in spec["environment"].items()},
            )
        )
    return services
