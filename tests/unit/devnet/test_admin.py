"""The administrator CLI (`python -m devnet.admin`) against a real broker over HTTP: its output,
its exit codes and how it shows the broker's refusals (RFC 9457 problems)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.public import PrivateKey

from devnet.admin import main
from devnet.enrolment import enrol_network, institution_entries
from devnet.launcher import free_port
from services.keys import b64, load_or_create_keys
from services.signing import RequestSigner
from tests.support import OPERATOR_TOKEN
from tests.unit.devnet.cli_run import Run, run_cli

CODE = "139999"  # a fictitious town
NAME = "試験町"


def admin(broker_url: str, *argv: str, token: str | None = OPERATOR_TOKEN) -> Run:
    """Run the CLI as an administrator whose shell has BROKER_URL and OPERATOR_TOKEN exported."""
    environ = {"BROKER_URL": broker_url, **({"OPERATOR_TOKEN": token} if token is not None else {})}
    return run_cli(main, argv, environ)


def key_pair() -> tuple[str, str]:
    """A fresh Ed25519 signing and X25519 encryption public key, base64 as the registry takes them."""
    signing = b64(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    return signing, b64(bytes(PrivateKey.generate().public_key))


def add_town(broker_url: str, *extra: str, token: str | None = OPERATOR_TOKEN) -> Run:
    signing, encryption = key_pair()
    return admin(
        broker_url,
        "institutions",
        "add",
        "--code",
        CODE,
        "--name",
        NAME,
        "--kind",
        "municipality",
        "--component",
        "intermediate",
        "http://test-town-intermediate:8000",
        signing,
        encryption,
        *extra,
        token=token,
    )


def test_an_added_institution_is_listed_and_shown(broker_url: str) -> None:
    added = add_town(broker_url)
    assert added.exit_code == 0, added.err
    assert added.json()["code"] == CODE
    assert added.json()["components"][0]["key_id"] == f"{CODE}.intermediate"

    listed = admin(broker_url, "institutions", "list")
    shown = admin(broker_url, "institutions", "show", CODE)

    assert listed.exit_code == 0, listed.err
    assert listed.out.splitlines()[0].split() == ["CODE", "KIND", "NAME", "COMPONENTS"]
    assert listed.table() == [[CODE, "municipality", NAME, "intermediate"]]
    assert shown.exit_code == 0
    assert shown.json() == added.json()


def test_list_as_json(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    listed = admin(broker_url, "--json", "institutions", "list")
    assert [(i["code"], i["name"], i["kind"]) for i in listed.json()] == [(CODE, NAME, "municipality")]


def test_a_wrong_operator_token_exits_1_with_the_brokers_problem(broker_url: str) -> None:
    refused = add_town(broker_url, token="not-the-operator-token")

    assert refused.exit_code == 1
    assert refused.out == ""
    assert "401 Not authenticated [operator_token_invalid]" in refused.err
    assert "The operator token is wrong or not configured." in refused.err
    assert admin(broker_url, "--json", "institutions", "list").json() == []


def test_the_token_flag_overrides_the_environment(broker_url: str) -> None:
    signing, encryption = key_pair()
    base = ["--code", CODE, "--name", NAME, "--kind", "municipality"]
    component = ["--component", "city", "http://test-town-city:8000", signing, encryption]
    run = admin(broker_url, "--operator-token", OPERATOR_TOKEN, "institutions", "add", *base, *component, token="wrong")
    assert run.exit_code == 0, run.err


def test_without_an_operator_token_nothing_is_sent(broker_url: str) -> None:
    refused = add_town(broker_url, token=None)
    assert refused.exit_code == 1
    assert "no operator token" in refused.err
    assert admin(broker_url, "--json", "institutions", "list").json() == []


def test_announcing_a_key_lists_both_generations_with_their_status(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    signing, encryption = key_pair()
    activates_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)

    announced = admin(
        broker_url,
        "keys",
        "announce",
        CODE,
        "intermediate",
        "--signing-public-key",
        signing,
        "--encryption-public-key",
        encryption,
        "--activates-at",
        activates_at.isoformat(),
    )
    listed = admin(broker_url, "keys", "list", CODE, "intermediate")

    assert announced.exit_code == 0, announced.err
    assert (announced.json()["key_id"], announced.json()["status"]) == (f"{CODE}.intermediate.v2", "announced")
    assert listed.exit_code == 0, listed.err
    assert [row[:3] for row in listed.table()] == [
        [f"{CODE}.intermediate", "1", "active"],
        [f"{CODE}.intermediate.v2", "2", "announced"],
    ]
    [old, new] = listed.table()
    assert datetime.fromisoformat(old[4]) == datetime.fromisoformat(new[3]) + timedelta(days=1)  # the overlap
    assert new[4:] == ["-", signing]


def test_the_directory_serves_the_old_key_until_the_new_one_takes_over(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    signing, encryption = key_pair()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    keys = ["--signing-public-key", signing, "--encryption-public-key", encryption]
    assert admin(broker_url, "keys", "announce", CODE, "intermediate", *keys, "--activates-at", later).exit_code == 0

    old = admin(broker_url, "keys", "show", f"{CODE}.intermediate")
    new = admin(broker_url, "keys", "show", f"{CODE}.intermediate.v2")

    assert old.exit_code == 0
    assert old.json()["institution_name"] == NAME
    assert new.exit_code == 1
    assert "404 Not found [unknown_key]" in new.err


def test_announcing_the_same_key_twice_is_a_conflict(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    signing, encryption = key_pair()
    keys = ["--signing-public-key", signing, "--encryption-public-key", encryption]
    assert admin(broker_url, "keys", "announce", CODE, "intermediate", *keys).exit_code == 0
    again = admin(broker_url, "keys", "announce", CODE, "intermediate", *keys)
    assert again.exit_code == 1
    assert "409 Conflict [key_already_registered]" in again.err


def test_a_bad_kind_shows_the_brokers_validation_problem(broker_url: str) -> None:
    signing, encryption = key_pair()
    refused = admin(
        broker_url,
        "institutions",
        "add",
        "--code",
        CODE,
        "--name",
        NAME,
        "--kind",
        "village",
        "--component",
        "city",
        "http://test-town-city:8000",
        signing,
        encryption,
    )
    assert refused.exit_code == 1
    assert "422 Bad request [invalid_request]" in refused.err
    assert "The request does not match the schema." in refused.err
    assert "body.kind: Input should be 'municipality'" in refused.err


def test_a_bad_code_and_a_bad_key_are_both_reported(broker_url: str) -> None:
    _, encryption = key_pair()
    refused = admin(
        broker_url,
        "institutions",
        "add",
        "--code",
        "Town 1",
        "--name",
        NAME,
        "--kind",
        "municipality",
        "--component",
        "city",
        "http://test-town-city:8000",
        "not-a-key",
        encryption,
    )
    assert refused.exit_code == 1
    assert "[invalid_request]" in refused.err
    assert "body.code: String should match pattern" in refused.err
    assert "body.components.0.signing_public_key: String should match pattern" in refused.err
    assert admin(broker_url, "--json", "institutions", "list").json() == []


def test_a_naive_activation_time_is_refused_by_the_broker(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    signing, encryption = key_pair()
    keys = ["--signing-public-key", signing, "--encryption-public-key", encryption]
    refused = admin(broker_url, "keys", "announce", CODE, "intermediate", *keys, "--activates-at", "2030-01-01T00:00")
    assert refused.exit_code == 1
    assert "body.activates_at: Input should have timezone info" in refused.err


def test_unknown_institution_and_component(broker_url: str) -> None:
    assert add_town(broker_url).exit_code == 0
    missing = admin(broker_url, "institutions", "show", "999998")
    no_city = admin(broker_url, "keys", "list", CODE, "city")
    assert (missing.exit_code, no_city.exit_code) == (1, 1)
    assert "404 Not found [unknown_institution]" in missing.err
    assert "404 Not found [unknown_component]" in no_city.err


def test_enrol_reads_a_running_component(broker_url: str) -> None:
    """The broker is itself a running component: its /.well-known/institution has all it takes."""
    identity = httpx.get(f"{broker_url}/.well-known/institution", trust_env=False).json()

    enrolled = admin(broker_url, "institutions", "enrol", f"{broker_url}=http://broker:8000")

    assert enrolled.exit_code == 0, enrolled.err
    [institution] = enrolled.json()
    assert (institution["code"], institution["kind"], institution["name"]) == (
        "broker",
        "broker",
        identity["institution_name"],
    )
    [component] = institution["components"]
    assert component["base_url"] == "http://broker:8000"
    assert component["signing_public_key"] == identity["signing_public_key"]
    assert admin(broker_url, "keys", "show", "broker.broker").json()["base_url"] == "http://broker:8000"


def test_add_reads_keys_from_a_running_component(broker_url: str) -> None:
    identity = httpx.get(f"{broker_url}/.well-known/institution", trust_env=False).json()
    base = ["institutions", "add", "--name", "情報提供ネットワークシステム", "--kind", "broker"]

    added = admin(broker_url, *base, "--code", "broker", "--from-well-known", broker_url)
    mismatch = admin(broker_url, *base, "--code", "other", "--from-well-known", broker_url)

    assert added.exit_code == 0, added.err
    assert added.json()["components"][0]["encryption_public_key"] == identity["encryption_public_key"]
    assert added.json()["components"][0]["base_url"] == broker_url
    assert mismatch.exit_code == 1
    assert "is broker.broker of institution broker, not other" in mismatch.err


def test_an_unreachable_broker_exits_1(broker_url: str) -> None:
    run = admin(f"http://127.0.0.1:{free_port()}", "institutions", "list")
    assert run.exit_code == 1
    assert "cannot reach the broker" in run.err


def test_an_unreachable_component_exits_1(broker_url: str) -> None:
    run = admin(broker_url, "institutions", "enrol", f"http://127.0.0.1:{free_port()}")
    assert run.exit_code == 1
    assert "cannot reach http://127.0.0.1:" in run.err


def test_a_non_problem_error_is_shown_as_it_came() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="Bad Gateway from a proxy"))
    err = io.StringIO()
    exit_code = main(["institutions", "list"], transport=transport, environ={}, out=io.StringIO(), err=err)
    assert exit_code == 1
    assert err.getvalue() == "error: the broker answered 502: Bad Gateway from a proxy\n"


def test_the_broker_url_defaults_to_the_local_demo_port() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=[])

    exit_code = main(["institutions", "list"], transport=httpx.MockTransport(answer), environ={}, out=io.StringIO())
    assert exit_code == 0
    assert seen == ["http://127.0.0.1:8102/registry/institutions"]


def test_enrol_network_still_registers_every_component(broker_url: str) -> None:
    """devnet/enrolment.py, which the CLI shares, as the demo and the test networks call it."""
    [registered] = enrol_network({"broker": broker_url}, {"broker": "http://broker:8000"}, OPERATOR_TOKEN)
    assert registered["components"][0]["base_url"] == "http://broker:8000"


def test_components_of_one_institution_are_enrolled_together() -> None:
    def identity(code: str, component: str) -> dict[str, str]:
        return {
            "institution_code": code,
            "institution_name": f"{code} name",
            "institution_kind": "municipality",
            "component": component,
            "key_id": f"{code}.{component}",
            "signing_public_key": f"{code}.{component} signing",
            "encryption_public_key": f"{code}.{component} encryption",
        }

    entries = institution_entries(
        [
            (identity("132110", "city"), "http://kodaira-city:8000"),
            (identity("132136", "city"), "http://higashimurayama-city:8000"),
            (identity("132110", "intermediate"), "http://kodaira-intermediate:8000"),
        ]
    )

    assert [(e["code"], [c["component"] for c in e["components"]]) for e in entries] == [
        ("132110", ["city", "intermediate"]),
        ("132136", ["city"]),
    ]
    assert entries[0]["components"][1] == {
        "component": "intermediate",
        "base_url": "http://kodaira-intermediate:8000",
        "signing_public_key": "132110.intermediate signing",
        "encryption_public_key": "132110.intermediate encryption",
    }


def administrator_token(broker_url: str, admin_id: str) -> str:
    created = admin(broker_url, "administrators", "create", admin_id, "--name", admin_id)
    assert created.exit_code == 0, created.err
    token: str = created.json()["token"]
    return token


def town_application(broker_url: str, key_dir: Path) -> str:
    """The town enrolled with keys of its own, and an application its intermediate server signed."""
    keys = load_or_create_keys(key_dir, f"{CODE}.intermediate")
    component = ["http://test-town-intermediate:8000", keys.signing_public_b64(), keys.encryption_public_b64()]
    base = ["--code", CODE, "--name", NAME, "--kind", "municipality"]
    assert admin(broker_url, "institutions", "add", *base, "--component", "intermediate", *component).exit_code == 0
    application = {"application_id": "a" * 32, "incident": "leaked", "applied_by": "joho-001", "approved_by": "j"}
    with httpx.Client(auth=RequestSigner(keys), trust_env=False) as town:
        response = town.post(f"{broker_url}/symbol-reissue-applications", json=application)
    assert response.status_code == 201, response.text
    application_id: str = response.json()["application_id"]
    return application_id


def test_a_reissue_needs_a_second_administrator_and_reports_a_failed_delivery(broker_url: str, tmp_path: Path) -> None:
    application_id = town_application(broker_url, tmp_path / "town")  # its server's address reaches nobody
    sato, suzuki = administrator_token(broker_url, "sato"), administrator_token(broker_url, "suzuki")
    applications = admin(broker_url, f"--admin-token={sato}", "reissue", "applications")
    declared = admin(
        broker_url,
        f"--admin-token={sato}",
        "reissue",
        "declare",
        CODE,
        "--application",
        application_id,
        "--reason",
        "x",
    )
    assert declared.exit_code == 0, declared.err
    reissue_id = declared.json()["reissue_id"]

    own = admin(broker_url, f"--admin-token={sato}", "reissue", "confirm", reissue_id)
    confirmed = admin(broker_url, f"--admin-token={suzuki}", "reissue", "confirm", reissue_id, "--follow")

    assert own.exit_code == 1
    assert "[confirmation_by_declarer]" in own.err
    assert confirmed.exit_code == 1
    assert "running (deriving)" in confirmed.out
    # Unreachable by name: a resolver may fail at once (unavailable) or only after the timeout.
    assert re.search(f"reissue {reissue_id} failed: upstream_(unavailable|timeout)", confirmed.err)
    listed = admin(broker_url, f"--admin-token={suzuki}", "reissue", "list")
    assert listed.table() == [[reissue_id, CODE, "failed", "delivering", "sato", "suzuki", "0"]]
    [application] = applications.table()
    assert (application[0], application[1], application[3:]) == (application_id, CODE, ["joho-001", "j", "-"])


def test_a_declaration_is_cancelled_from_the_cli_and_its_application_is_free_again(
    broker_url: str, tmp_path: Path
) -> None:
    application_id = town_application(broker_url, tmp_path / "town")
    sato = administrator_token(broker_url, "sato")
    declare = ["reissue", "declare", CODE, "--application", application_id, "--reason", "x"]
    reissue_id = admin(broker_url, f"--admin-token={sato}", *declare).json()["reissue_id"]

    cancelled = admin(broker_url, f"--admin-token={sato}", "reissue", "cancel", reissue_id)
    again = admin(broker_url, f"--admin-token={sato}", "reissue", "cancel", reissue_id)
    redeclared = admin(broker_url, f"--admin-token={sato}", *declare)

    assert cancelled.exit_code == 0, cancelled.err
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "sato")
    assert again.exit_code == 1
    assert "[reissue_not_awaiting_confirmation]" in again.err
    assert redeclared.exit_code == 0, redeclared.err
    assert redeclared.json()["application_id"] == application_id


def test_reissue_commands_need_an_administrator_token(broker_url: str) -> None:
    without = admin(broker_url, "reissue", "list")
    operator_only = admin(broker_url, f"--admin-token={OPERATOR_TOKEN}", "reissue", "list")

    assert without.exit_code == 1
    assert "no administrator token" in without.err
    assert operator_only.exit_code == 1
    assert "[administrator_token_invalid]" in operator_only.err
