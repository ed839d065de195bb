"""Card login (利用者証明): a resident proves they hold a card J-LIS issued by signing a fresh
challenge with its authentication key; J-LIS then vouches for them to My Portal, exactly as the
test login does, and refuses anything it did not issue, revoked, expired, or signed by another key.
The developer CLI (`devnet/card.py`) is tested here too, against the same in-process network."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from sqlalchemy import select

from broker.app import create_app as create_broker
from broker.config import BrokerSettings
from devnet.card import (
    AUTH_KEY,
    AUTH_PUBLIC_KEY,
    SIGN_KEY,
    SIGN_PUBLIC_KEY,
    CardError,
    WrongPin,
    card_login,
    generate_card_keys,
    load_card_key,
    main,
    sign_challenge,
)
from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from jlis.numbers.models import NumberOperation
from municipality.city.app import create_app as create_city
from municipality.city.config import CitySettings
from portal.app import create_app as create_portal
from portal.config import PortalSettings
from services.keys import public_key_from_b64
from tests.support import InProcessNetwork, in_process_network, settings_kwargs
from tests.unit.jlis.card_support import CardKeys, authority, card_issued_at, new_card, revoke
from tests.unit.jlis.network import BROKER, JLIS, KODAIRA, issue_numbers, problem_code

PORTAL = "portal.test"
PIN = "1234"
CHALLENGES_EXPIRE_AT_ONCE = pytest.mark.parametrize(
    "jlis_options", [{"card_challenge_ttl_seconds": 0}], ids=["challenge-ttl-0"]
)


async def challenge(network: InProcessNetwork) -> str:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        response = await browser.post("/pki/challenges")
    assert response.status_code == 201
    text: str = response.json()["challenge"]
    return text


async def log_in(
    network: InProcessNetwork, certificate_pem: str, key: ec.EllipticCurvePrivateKey, text: str | None = None
) -> httpx.Response:
    """What the resident's browser or CLI does: sign a challenge with the card and present it."""
    text = text or await challenge(network)
    body = {"certificate_pem": certificate_pem, "challenge": text, "signature": sign_challenge(key, text)}
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        return await browser.post("/pki/authentications", json=body)


async def jlis_public_key(network: InProcessNetwork) -> Any:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as anyone:
        institution = (await anyone.get("/.well-known/institution")).json()
    return public_key_from_b64(institution["signing_public_key"])


def expect_login_refused(response: httpx.Response, code: str) -> None:
    """A refused card login: 401 problem+json with this stable code."""
    assert (response.status_code, problem_code(response)) == (401, code)


# --- J-LIS's side ----------------------------------------------------------------------------


async def test_card_login_vouches_for_the_holder_to_the_portal_without_revealing_who_they_are(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    response = await log_in(network, card.auth_certificate_pem, keys.auth)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 300
    token = response.json()["assertion"]
    claims: dict[str, Any] = jwt.decode(token, await jlis_public_key(network), algorithms=["EdDSA"], audience="portal")
    assert claims["iss"] == "jlis.jlis"
    assert number not in token
    assert "12345678901" not in str(claims)
    body = {"for_institution": "portal", "acquisition_numbers": [claims["acquisition_number"]]}
    async with network.client_for(JLIS, signed_as=BROKER) as broker:
        redeemed = await broker.post("/acquisition-numbers/redeem", json=body)
    assert redeemed.status_code == 200
    [person] = redeemed.json()["persons"]
    assert person["for_institution"] == "portal"
    assert person["person_serial"] not in token
    async with network.runtime(JLIS).database.sessions() as session:
        logins = await session.scalars(select(NumberOperation.outcome).where(NumberOperation.caller == "card-login"))
        assert list(logins) == ["for:portal"]


async def test_card_login_works_while_the_test_login_is_disabled(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        test_login = await browser.post("/test-logins", json={"individual_number": number})
    assert problem_code(test_login) == "test_login_disabled"
    assert (await log_in(network, card.auth_certificate_pem, keys.auth)).status_code == 200


async def test_a_challenge_logs_in_once(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    text = await challenge(network)
    first = await log_in(network, card.auth_certificate_pem, keys.auth, text)
    replayed = await log_in(network, card.auth_certificate_pem, keys.auth, text)
    assert first.status_code == 200
    expect_login_refused(replayed, "challenge_invalid")


async def test_a_challenge_jlis_never_issued_is_refused(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    made_up = base64.urlsafe_b64encode(b"\x00" * 32).rstrip(b"=").decode()
    expect_login_refused(await log_in(network, card.auth_certificate_pem, keys.auth, made_up), "challenge_invalid")


@CHALLENGES_EXPIRE_AT_ONCE
async def test_an_expired_challenge_is_refused(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    expect_login_refused(await log_in(network, card.auth_certificate_pem, keys.auth), "challenge_invalid")


async def test_a_signature_by_another_key_is_refused_and_leaves_the_challenge_usable(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    text = await challenge(network)
    forged = await log_in(network, card.auth_certificate_pem, ec.generate_private_key(ec.SECP256R1()), text)
    expect_login_refused(forged, "signature_invalid")
    assert (await log_in(network, card.auth_certificate_pem, keys.auth, text)).status_code == 200


@pytest.mark.parametrize("signature", ["not base64!", base64.b64encode(b"\x30\x00").decode()], ids=["text", "der"])
async def test_a_malformed_signature_is_refused(network: InProcessNetwork, signature: str) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    body = {"certificate_pem": card.auth_certificate_pem, "challenge": await challenge(network), "signature": signature}
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        expect_login_refused(await browser.post("/pki/authentications", json=body), "signature_invalid")


async def test_a_revoked_card_cannot_log_in(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    assert (await revoke(network, card.card_id, "stolen")).status_code == 200
    expect_login_refused(await log_in(network, card.auth_certificate_pem, keys.auth), "certificate_revoked")


async def test_an_expired_card_cannot_log_in(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await card_issued_at(network, number, date(1980, 1, 1), datetime(2015, 1, 5, tzinfo=UTC))
    assert card.expires_on == date(2025, 1, 1)
    # Any key will do: the certificate's validity is checked before the signature.
    response = await log_in(network, card.auth_certificate_pem, ec.generate_private_key(ec.SECP256R1()))
    expect_login_refused(response, "certificate_expired")


def self_issued(key: ec.EllipticCurvePrivateKey, issuer: x509.Name, serial: int) -> str:
    """A certificate for `key` that claims `issuer` but is signed by some other key."""
    signer = ec.generate_private_key(ec.SECP384R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "JPKI-AUTH forged")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(signer, hashes.SHA384())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("claimed_issuer", ["itself", "J-LIS's issuing CA"])
async def test_a_certificate_jlis_did_not_issue_is_not_trusted(network: InProcessNetwork, claimed_issuer: str) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    genuine = x509.load_pem_x509_certificate((await new_card(network, number)).auth_certificate_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = (
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "JPKI-AUTH forged")])
        if claimed_issuer == "itself"
        else authority(network).issuing_certificate.subject
    )
    # Even the serial of a genuine, live certificate does not make a forgery trusted.
    forged = self_issued(key, issuer, genuine.serial_number)
    expect_login_refused(await log_in(network, forged, key), "certificate_not_trusted")


async def test_garbage_instead_of_a_certificate_is_not_trusted(network: InProcessNetwork) -> None:
    expect_login_refused(
        await log_in(network, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CardKeys().auth),
        "certificate_not_trusted",
    )


async def test_the_signing_certificate_does_not_log_in(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    response = await log_in(network, card.signing_certificate_pem, keys.sign)
    expect_login_refused(response, "certificate_not_for_authentication")


# --- the developer CLI -----------------------------------------------------------------------


def test_keygen_writes_card_keys_that_only_the_pin_opens(tmp_path: Path) -> None:
    written = generate_card_keys(tmp_path / "card", PIN)
    assert set(written) == {AUTH_KEY, SIGN_KEY, AUTH_PUBLIC_KEY, SIGN_PUBLIC_KEY}
    for private_name, public_name in ((AUTH_KEY, AUTH_PUBLIC_KEY), (SIGN_KEY, SIGN_PUBLIC_KEY)):
        private_file = written[private_name]
        assert private_file.stat().st_mode & 0o777 == 0o600
        assert private_file.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        key = load_card_key(private_file, PIN)
        assert isinstance(key.curve, ec.SECP256R1)
        public = serialization.load_pem_public_key(written[public_name].read_bytes())  # what the city sends
        assert public == key.public_key()
    assert load_card_key(written[AUTH_KEY], PIN).public_key() != load_card_key(written[SIGN_KEY], PIN).public_key()


def test_a_wrong_pin_gives_a_clear_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_card_keys(tmp_path, PIN)
    with pytest.raises(WrongPin, match="The PIN is wrong"):
        load_card_key(tmp_path / AUTH_KEY, "9999")
    (tmp_path / "auth.pem").write_text("unused", encoding="ascii")
    argv = ["login", "--jlis", "http://jlis.invalid", "--portal", "http://portal.invalid", "--dir", str(tmp_path)]
    status = main([*argv, "--pin", "9999", "--certificate", str(tmp_path / "auth.pem")])
    captured = capsys.readouterr()
    assert status == 2
    assert "The PIN is wrong" in captured.err
    assert "Traceback" not in captured.err


def test_keygen_never_overwrites_a_cards_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = main(["keygen", "--dir", str(tmp_path), "--pin", PIN])
    before = (tmp_path / AUTH_KEY).read_bytes()
    second = main(["keygen", "--dir", str(tmp_path), "--pin", PIN])
    assert (first, second) == (0, 2)
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / AUTH_KEY).read_bytes() == before


def test_a_pin_too_short_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CardError, match="at least 4"):
        generate_card_keys(tmp_path, "12")


async def test_cli_signature_over_a_challenge_is_accepted_by_jlis(network: InProcessNetwork, tmp_path: Path) -> None:
    generate_card_keys(tmp_path, PIN)
    keys = CardKeys(auth=load_card_key(tmp_path / AUTH_KEY, PIN), sign=load_card_key(tmp_path / SIGN_KEY, PIN))
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number, keys)
    text = await challenge(network)
    body = {
        "certificate_pem": card.auth_certificate_pem,
        "challenge": text,
        "signature": sign_challenge(load_card_key(tmp_path / AUTH_KEY, PIN), text),
    }
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as cli:
        assert (await cli.post("/pki/authentications", json=body)).status_code == 200


@pytest.fixture
async def portal_network(tmp_path: Path, database_url_factory: Callable[[str], str]) -> AsyncIterator[InProcessNetwork]:
    """J-LIS, the broker, 小平市 and My Portal: everything a card login touches."""
    urls = {
        label: await asyncio.to_thread(database_url_factory, label) for label in ("jlis", "broker", "city", "portal")
    }

    def settings(label: str) -> dict[str, Any]:
        return settings_kwargs(tmp_path / label, urls[label], broker_url=f"http://{BROKER}")

    factories: dict[str, Callable[[], FastAPI]] = {
        JLIS: lambda: create_jlis(JlisSettings(**settings("jlis"))),
        BROKER: lambda: create_broker(BrokerSettings(**settings("broker"), jlis_url=f"http://{JLIS}")),
        KODAIRA: lambda: create_city(CitySettings(**settings("city"), municipality_code="132110")),
        PORTAL: lambda: create_portal(PortalSettings(**settings("portal"))),
    }
    async with in_process_network(factories) as network:
        yield network


async def test_cli_login_opens_a_my_portal_session(portal_network: InProcessNetwork, tmp_path: Path) -> None:
    generate_card_keys(tmp_path, PIN)
    auth_key = load_card_key(tmp_path / AUTH_KEY, PIN)
    keys = CardKeys(auth=auth_key, sign=load_card_key(tmp_path / SIGN_KEY, PIN))
    [number] = await issue_numbers(portal_network, ["12345678901"])
    card = await new_card(portal_network, number, keys)
    token = await card_login(
        f"http://{JLIS}", f"http://{PORTAL}", auth_key, card.auth_certificate_pem, transport=portal_network.transport
    )
    async with portal_network.client_for(PORTAL) as portal:
        records = await portal.get("/api/me/provision-records", headers={"Authorization": f"Bearer {token}"})
    assert records.status_code == 200
    assert records.json() == {"records": []}


async def test_cli_reports_why_jlis_refused_the_login(portal_network: InProcessNetwork, tmp_path: Path) -> None:
    generate_card_keys(tmp_path, PIN)
    auth_key = load_card_key(tmp_path / AUTH_KEY, PIN)
    [number] = await issue_numbers(portal_network, ["12345678901"])
    card = await new_card(portal_network, number, CardKeys(auth=auth_key))
    await revoke(portal_network, card.card_id, "lost")
    with pytest.raises(CardError, match="certificate_revoked"):
        await card_login(
            f"http://{JLIS}",
            f"http://{PORTAL}",
            auth_key,
            card.auth_certificate_pem,
            transport=portal_network.transport,
        )


async def test_cli_refuses_a_certificate_for_another_key_before_calling_anyone(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    with pytest.raises(CardError, match="not for this card's authentication key"):
        await card_login("http://jlis.invalid", "http://portal.invalid", CardKeys().auth, card.auth_certificate_pem)
