"""The network administrator's CLI for the broker's institution registry:
`python -m devnet.admin [--broker URL] [--operator-token T] <command>`.

  institutions list                       every registered institution (table)
  institutions show CODE                  one institution with its components and keys (JSON)
  institutions add --code C --name N --kind K
        (--component NAME BASE_URL SIGNING_KEY ENCRYPTION_KEY | --from-well-known URL[=BASE_URL])...
  institutions enrol URL[=BASE_URL]...    everything read from running components' /.well-known/institution
  keys list CODE COMPONENT                a component's key generations and their status (table)
  keys announce CODE COMPONENT --signing-public-key K --encryption-public-key K [--activates-at ISO8601]
  keys show KEY_ID                        the key in force under this id, as verifiers see it (JSON)
  administrators create ADMIN_ID --name N a named administrator; prints its token once
  reissue applications                    institutions' applications for a reissue, newest first (table)
  reissue declare CODE --application ID --reason R
                                          declare CODE's symbols leaked, on CODE's application (one administrator)
  reissue confirm REISSUE_ID [--follow]   confirm it (a second administrator); --follow shows progress
  reissue cancel REISSUE_ID               withdraw a declaration nobody has confirmed
  reissue resume REISSUE_ID [--follow]    run a failed reissue again from where it stopped
  reissue status REISSUE_ID | reissue list

The broker URL defaults to $BROKER_URL, else http://127.0.0.1:8102; the operator token (needed to
add, enrol, announce and create administrators) to $OPERATOR_TOKEN, and an administrator's own
token (for reissues) to $ADMIN_TOKEN, so neither need appear in shell history. A refusal
by the broker (RFC 9457 problem) is printed with its title, code and detail, and exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import httpx

from devnet.cli import CommandError, ServiceCli, answer, print_json, print_table
from devnet.enrolment import component_entry, institution_entries, read_identity

DEFAULT_BROKER = "http://127.0.0.1:8102"
INSTITUTIONS = "/registry/institutions"


# --- talking to the broker ----------------------------------------------------------------------


class Registry:
    """The broker's registry API, as an administrator sees it."""

    def __init__(self, client: httpx.Client, operator_token: str | None, admin_token: str | None = None) -> None:
        self.client = client
        self.operator_token = operator_token
        self.admin_token = admin_token

    def _operator(self) -> dict[str, str]:
        if not self.operator_token:
            raise CommandError("no operator token: pass --operator-token or set OPERATOR_TOKEN")
        return {"Authorization": f"Bearer {self.operator_token}"}

    def _administrator(self) -> dict[str, str]:
        if not self.admin_token:
            raise CommandError("no administrator token: pass --admin-token or set ADMIN_TOKEN")
        return {"Authorization": f"Bearer {self.admin_token}"}

    def get(self, path: str) -> Any:
        return answer(self.client.get(path))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return answer(self.client.post(path, json=body, headers=self._operator()))

    def get_as_administrator(self, path: str) -> Any:
        return answer(self.client.get(path, headers=self._administrator()))

    def post_as_administrator(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return answer(self.client.post(path, json=body, headers=self._administrator()))


def _split_url(argument: str) -> tuple[str, str]:
    """`URL` or `URL=BASE_URL`: where this machine reads the component, and where others reach it."""
    read_url, _, base_url = argument.partition("=")
    read_url = read_url.rstrip("/")
    return read_url, (base_url or read_url).rstrip("/")


def _identity(client: httpx.Client, url: str) -> Mapping[str, Any]:
    try:
        return read_identity(client, url)
    except httpx.HTTPStatusError as error:
        raise CommandError(f"{url}/.well-known/institution answered {error.response.status_code}") from error
    except httpx.TransportError as error:
        raise CommandError(f"cannot reach {url}: {error}") from error
    except ValueError as error:
        raise CommandError(f"{url}/.well-known/institution is not JSON: {error}") from error


# --- commands -----------------------------------------------------------------------------------


def institutions_list(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    institutions = registry.get(INSTITUTIONS)
    if args.json:
        print_json(institutions, out)
        return
    rows = [[i["code"], i["kind"], i["name"], " ".join(c["component"] for c in i["components"])] for i in institutions]
    print_table(["CODE", "KIND", "NAME", "COMPONENTS"], rows, out)


def institutions_show(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    print_json(registry.get(f"{INSTITUTIONS}/{args.code}"), out)


def institutions_add(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    components = [
        {"component": name, "base_url": base_url, "signing_public_key": signing, "encryption_public_key": encryption}
        for name, base_url, signing, encryption in args.component or []
    ]
    for argument in args.from_well_known or []:
        read_url, base_url = _split_url(argument)
        identity = _identity(registry.client, read_url)
        if identity["institution_code"] != args.code:
            raise CommandError(
                f"{read_url} is {identity['key_id']} of institution {identity['institution_code']}, not {args.code}:"
                " it signs with that key id, so it cannot be registered under another code"
            )
        components.append(component_entry(identity, base_url))
    if not components:
        raise CommandError("give at least one --component or --from-well-known")
    body = {"code": args.code, "name": args.name, "kind": args.kind, "components": components}
    print_json(registry.post(INSTITUTIONS, body), out)


def institutions_enrol(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    identities = []
    for argument in args.urls:
        read_url, base_url = _split_url(argument)
        identities.append((_identity(registry.client, read_url), base_url))
    print_json([registry.post(INSTITUTIONS, entry) for entry in institution_entries(identities)], out)


def keys_list(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    generations = registry.get(f"{INSTITUTIONS}/{args.code}/components/{args.component}/keys")
    if args.json:
        print_json(generations, out)
        return
    fields = ("key_id", "generation", "status", "activates_at", "retires_at", "signing_public_key")
    rows = [["-" if g[field] is None else str(g[field]) for field in fields] for g in generations]
    print_table(["KEY ID", "GEN", "STATUS", "ACTIVATES AT", "RETIRES AT", "SIGNING PUBLIC KEY"], rows, out)


def keys_announce(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    body = {"signing_public_key": args.signing_public_key, "encryption_public_key": args.encryption_public_key}
    if args.activates_at is not None:
        body["activates_at"] = args.activates_at
    print_json(registry.post(f"{INSTITUTIONS}/{args.code}/components/{args.component}/keys", body), out)


def keys_show(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    print_json(registry.get(f"/registry/keys/{args.key_id}"), out)


def administrators_create(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    print_json(registry.post("/administrators", {"admin_id": args.admin_id, "name": args.name}), out)


REISSUES = "/symbol-reissues"
APPLICATIONS = "/symbol-reissue-applications"


def _print_records(
    records: Sequence[Mapping[str, Any]], fields: Mapping[str, str], args: argparse.Namespace, out: TextIO
) -> None:
    """A table of the named fields (field → column header), or the JSON with --json."""
    if args.json:
        print_json(records, out)
        return
    rows = [["-" if r[field] is None else str(r[field]) for field in fields] for r in records]
    print_table(list(fields.values()), rows, out)


def _follow(registry: Registry, reissue: Mapping[str, Any], out: TextIO, poll_seconds: float = 0.5) -> None:
    """Print the reissue's progress whenever it changes, until it completes or fails."""
    last = ""
    while True:
        line = f"{reissue['status']} ({reissue['phase']}): {reissue['delivered']:,} of {reissue['persons']:,} delivered"
        if line != last:
            print(line, file=out, flush=True)
            last = line
        if reissue["status"] == "failed":
            raise CommandError(f"reissue {reissue['reissue_id']} failed: {reissue['error']}")
        if reissue["status"] != "running":
            return
        time.sleep(poll_seconds)
        reissue = registry.get_as_administrator(f"{REISSUES}/{reissue['reissue_id']}")


def reissue_declare(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    body = {"institution_code": args.code, "application_id": args.application, "reason": args.reason}
    print_json(registry.post_as_administrator(REISSUES, body), out)


def reissue_applications(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    applications = registry.get_as_administrator(APPLICATIONS)
    fields = {
        "application_id": "APPLICATION ID",
        "institution_code": "CODE",
        "received_at": "RECEIVED AT",
        "applied_by": "APPLIED BY",
        "approved_by": "APPROVED BY",
        "reissue_id": "REISSUE ID",
    }
    _print_records(applications, fields, args, out)


def reissue_step(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    """Confirm, cancel or resume: a POST to the reissue's step."""
    reissue = registry.post_as_administrator(f"{REISSUES}/{args.reissue_id}/{args.step}")
    if args.follow:
        _follow(registry, reissue, out)
    else:
        print_json(reissue, out)


def reissue_status(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    print_json(registry.get_as_administrator(f"{REISSUES}/{args.reissue_id}"), out)


def reissue_list(registry: Registry, args: argparse.Namespace, out: TextIO) -> None:
    fields = {
        "reissue_id": "REISSUE ID",
        "institution_code": "CODE",
        "status": "STATUS",
        "phase": "PHASE",
        "declared_by": "DECLARED BY",
        "confirmed_by": "CONFIRMED BY",
        "persons": "PERSONS",
    }
    _print_records(registry.get_as_administrator(REISSUES), fields, args, out)


# --- arguments ----------------------------------------------------------------------------------


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devnet.admin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--broker",
        default=environ.get("BROKER_URL") or DEFAULT_BROKER,
        help="the broker's base URL (default: $BROKER_URL, else %(default)s)",
    )
    parser.add_argument(
        "--operator-token",
        default=environ.get("OPERATOR_TOKEN"),
        help="the deployment's operator token (default: $OPERATOR_TOKEN)",
    )
    parser.add_argument(
        "--admin-token",
        default=environ.get("ADMIN_TOKEN"),
        help="your own administrator token, for reissues (default: $ADMIN_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print lists as JSON instead of a table")
    topics = parser.add_subparsers(dest="topic", required=True)

    institutions = topics.add_parser("institutions", help="institutions and their components").add_subparsers(
        dest="command", required=True
    )
    institutions.add_parser("list", help="every registered institution").set_defaults(run=institutions_list)
    show = institutions.add_parser("show", help="one institution, with its components and public keys")
    show.add_argument("code")
    show.set_defaults(run=institutions_show)

    add = institutions.add_parser("add", help="register (or update) an institution and its components")
    add.add_argument("--code", required=True, help="e.g. 132110 for 小平市")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, help="municipality, prefecture, national_agency, jlis, broker or portal")
    add.add_argument(
        "--component",
        nargs=4,
        action="append",
        metavar=("COMPONENT", "BASE_URL", "SIGNING_PUBLIC_KEY", "ENCRYPTION_PUBLIC_KEY"),
        help="a component given explicitly (city, intermediate, jlis, broker or portal); repeatable",
    )
    add.add_argument(
        "--from-well-known",
        action="append",
        metavar="URL[=BASE_URL]",
        help="a component read from its running /.well-known/institution at URL, registered with BASE_URL"
        " (default URL); repeatable",
    )
    add.set_defaults(run=institutions_add)

    enrol = institutions.add_parser(
        "enrol", help="register every institution whose running components are at these URLs"
    )
    enrol.add_argument(
        "urls",
        nargs="+",
        metavar="URL[=BASE_URL]",
        help="read /.well-known/institution at URL; register the component with BASE_URL (default URL)",
    )
    enrol.set_defaults(run=institutions_enrol)

    keys = topics.add_parser("keys", help="component keys and their rotation").add_subparsers(
        dest="command", required=True
    )
    key_list = keys.add_parser("list", help="a component's key generations and their status")
    key_list.add_argument("code")
    key_list.add_argument("component")
    key_list.set_defaults(run=keys_list)

    announce = keys.add_parser("announce", help="announce a component's next key pair")
    announce.add_argument("code")
    announce.add_argument("component")
    announce.add_argument("--signing-public-key", required=True, help="Ed25519, base64 of the 32 raw bytes")
    announce.add_argument("--encryption-public-key", required=True, help="X25519, base64 of the 32 raw bytes")
    announce.add_argument(
        "--activates-at",
        metavar="ISO8601",
        help="when the new key takes over, with a UTC offset (default: now; a past time retires the old key sooner)",
    )
    announce.set_defaults(run=keys_announce)

    key_show = keys.add_parser("show", help="the key in force under this key id")
    key_show.add_argument("key_id")
    key_show.set_defaults(run=keys_show)

    administrators = topics.add_parser("administrators", help="named broker administrators").add_subparsers(
        dest="command", required=True
    )
    create = administrators.add_parser("create", help="create an administrator; its token is printed once")
    create.add_argument("admin_id")
    create.add_argument("--name", required=True)
    create.set_defaults(run=administrators_create)

    reissue = topics.add_parser("reissue", help="reissue an institution's symbols after a leak").add_subparsers(
        dest="command", required=True
    )
    reissue.add_parser("applications", help="institutions' applications, newest first").set_defaults(
        run=reissue_applications
    )
    declare = reissue.add_parser("declare", help="declare an institution's symbols leaked, on its application")
    declare.add_argument("code")
    declare.add_argument("--application", required=True, help="the institution's application id")
    declare.add_argument("--reason", required=True)
    declare.set_defaults(run=reissue_declare)
    for step, endpoint, text in (
        ("confirm", "confirmation", "confirm another administrator's declaration; the reissue starts"),
        ("resume", "resumption", "run a failed reissue again from the phase it stopped in"),
    ):
        command = reissue.add_parser(step, help=text)
        command.add_argument("reissue_id")
        command.add_argument("--follow", action="store_true", help="print progress until the reissue ends")
        command.set_defaults(run=reissue_step, step=endpoint)
    cancel = reissue.add_parser("cancel", help="withdraw a declaration nobody has confirmed; its application is free")
    cancel.add_argument("reissue_id")
    cancel.set_defaults(run=reissue_step, step="cancellation", follow=False)
    status = reissue.add_parser("status", help="one reissue and its progress")
    status.add_argument("reissue_id")
    status.set_defaults(run=reissue_status)
    reissue.add_parser("list", help="every reissue, newest first").set_defaults(run=reissue_list)
    return parser


main = ServiceCli(
    "the broker",
    build_parser,
    base_url=lambda args: str(args.broker),
    target=lambda client, args: Registry(client, args.operator_token, args.admin_token),
    timeout=10.0,
).main


if __name__ == "__main__":
    sys.exit(main())
