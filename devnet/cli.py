"""What the devnet command-line tools share: refusals shown as their RFC 9457 problem, JSON and
tables on standard output, and one way of running a command against a service over HTTP."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TextIO, TypeVar

import httpx

Target = TypeVar("Target")


class CommandError(Exception):
    """The command cannot be carried out; the message says why (exit 1)."""


class ServiceRefusal(Exception):
    """The service answered with an error status, usually a problem+json body."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} from {response.request.method} {response.request.url.path}")
        self.response = response


def answer(response: httpx.Response) -> Any:
    """The JSON of a successful answer; a refusal is raised as `ServiceRefusal`."""
    if response.is_error:
        raise ServiceRefusal(response)
    return response.json()


def run_command(
    service: str,
    base_url: str,
    command: Callable[[httpx.Client], None],
    err: TextIO,
    *,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Run `command` with a client for `base_url`; 0 on success, 1 (and the reason on `err`) if not."""
    try:
        with httpx.Client(base_url=base_url, timeout=timeout, trust_env=False, transport=transport) as client:
            command(client)
    except ServiceRefusal as refusal:
        print_refusal(refusal.response, err, service)
        return 1
    except CommandError as error:
        print(f"error: {error}", file=err)
        return 1
    except httpx.TransportError as error:
        print(f"error: cannot reach {service} at {base_url}: {error}", file=err)
        return 1
    return 0


@dataclass(frozen=True)
class ServiceCli(Generic[Target]):
    """One CLI against one service: its parser sets `run(target, args, out)` for the chosen
    command; `target` wraps the HTTP client in the service's own API (e.g. the broker's registry)."""

    service: str
    build_parser: Callable[[Mapping[str, str]], argparse.ArgumentParser]
    base_url: Callable[[argparse.Namespace], str]
    target: Callable[[httpx.Client, argparse.Namespace], Target]
    timeout: float

    def main(
        self,
        argv: Sequence[str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> int:
        """Run one command; 0 on success, 1 when it fails. `transport` replaces the network (tests)."""
        args = self.build_parser(os.environ if environ is None else environ).parse_args(argv)
        run: Callable[[Target, argparse.Namespace, TextIO], None] = args.run
        stdout = out or sys.stdout
        return run_command(
            self.service,
            self.base_url(args).rstrip("/"),
            lambda client: run(self.target(client, args), args, stdout),
            err or sys.stderr,
            timeout=self.timeout,
            transport=transport,
        )


def print_json(value: Any, out: TextIO) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), file=out)


def _width(text: str) -> int:
    """Columns the text takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip(), file=out)


def print_refusal(response: httpx.Response, err: TextIO, service: str = "the service") -> None:
    """The broker's problem (RFC 9457): status, title, code, detail and any field errors."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or "code" not in problem:
        print(f"error: {service} answered {response.status_code}: {response.text.strip()[:500]}", file=err)
        return
    title = problem.get("title") or response.reason_phrase
    print(f"error: {response.status_code} {title} [{problem['code']}]", file=err)
    if problem.get("detail"):
        print(f"  {problem['detail']}", file=err)
    for error in problem.get("errors") or []:
        location = ".".join(str(part) for part in error.get("location", []))
        print(f"  {location}: {error.get('message', '')}", file=err)
