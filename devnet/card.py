"""A software stand-in for the individual number card, so developers can log in to My Portal.

    python -m devnet.card keygen --dir DIR [--pin PIN]
    python -m devnet.card login --jlis URL --portal URL --dir DIR [--pin PIN] --certificate auth.pem

`keygen` writes the card's two key pairs (card-auth.key, card-sign.key: PKCS#8 PEM encrypted
under the PIN; card-auth.pub.pem, card-sign.pub.pem: the public keys the city's counter sends to
J-LIS). `login` asks J-LIS for a challenge, signs it with the authentication key, trades the
signature for J-LIS's login assertion and the assertion for a My Portal session, whose token it
prints. A real card keeps its keys on the chip and locks after a few wrong PINs; a file under a
PIN only models the flow, so never use it for anything but synthetic residents.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

AUTH_KEY, SIGN_KEY = "card-auth.key", "card-sign.key"
AUTH_PUBLIC_KEY, SIGN_PUBLIC_KEY = "card-auth.pub.pem", "card-sign.pub.pem"
MIN_PIN_LENGTH = 4
DESCRIPTION = "A software stand-in for the individual number card (keys on disk under a PIN)."


class CardError(Exception):
    """Something the user can put right; the CLI prints it without a traceback."""


class WrongPin(CardError):
    pass


def _check_pin(pin: str) -> bytes:
    if len(pin) < MIN_PIN_LENGTH:
        raise CardError(f"The PIN needs at least {MIN_PIN_LENGTH} characters.")
    return pin.encode("utf-8")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise CardError(f"{path} already exists; keygen never overwrites a card's keys.") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def generate_card_keys(directory: Path, pin: str) -> dict[str, Path]:
    """Create the card's authentication and signing key pairs (EC P-256) under `directory`."""
    password = _check_pin(pin)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for private_name, public_name in ((AUTH_KEY, AUTH_PUBLIC_KEY), (SIGN_KEY, SIGN_PUBLIC_KEY)):
        key = ec.generate_private_key(ec.SECP256R1())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _write_new(directory / private_name, private_pem, 0o600)
        _write_new(directory / public_name, public_pem, 0o644)
        written[private_name], written[public_name] = directory / private_name, directory / public_name
    return written


def load_card_key(path: Path, pin: str) -> ec.EllipticCurvePrivateKey:
    """The private key in `path`, decrypted with the PIN."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CardError(f"{path} does not exist; run `python -m devnet.card keygen` first.") from exc
    try:
        key = serialization.load_pem_private_key(data, password=_check_pin(pin))
    except (ValueError, TypeError) as exc:
        raise WrongPin(f"The PIN is wrong for {path} (or the file is not a card key).") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CardError(f"{path} is not an EC card key.")
    return key


def sign_challenge(key: ec.EllipticCurvePrivateKey, challenge: str) -> str:
    """The card's answer: ECDSA-SHA256 over the challenge text exactly as J-LIS sent it, DER, base64."""
    return base64.b64encode(key.sign(challenge.encode("ascii"), ec.ECDSA(hashes.SHA256()))).decode("ascii")


def _refusal(service: str, response: httpx.Response) -> CardError:
    try:
        problem = response.json()
        reason = f"{problem['code']}: {problem['detail']}"
    except (ValueError, KeyError, TypeError):
        reason = response.text[:200]
    return CardError(f"{service} refused the login ({response.status_code} {reason})")


async def card_login(
    jlis_url: str,
    portal_url: str,
    key: ec.EllipticCurvePrivateKey,
    certificate_pem: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Log in to My Portal with the card: challenge → signature → J-LIS assertion → session token."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise CardError("The certificate file is not a PEM certificate.") from exc
    if certificate.public_key() != key.public_key():
        raise CardError("The certificate is not for this card's authentication key.")
    jlis_url, portal_url = jlis_url.rstrip("/"), portal_url.rstrip("/")
    async with httpx.AsyncClient(transport=transport, timeout=10.0, trust_env=False) as client:
        try:
            challenge = await client.post(f"{jlis_url}/pki/challenges")
            if challenge.status_code != 201:
                raise _refusal("J-LIS", challenge)
            text = challenge.json()["challenge"]
            body = {"certificate_pem": certificate_pem, "challenge": text, "signature": sign_challenge(key, text)}
            authenticated = await client.post(f"{jlis_url}/pki/authentications", json=body)
            if authenticated.status_code != 200:
                raise _refusal("J-LIS", authenticated)
            assertion = authenticated.json()["assertion"]
            session = await client.post(f"{portal_url}/api/session", json={"assertion": assertion})
            if session.status_code != 201:
                raise _refusal("My Portal", session)
        except httpx.RequestError as exc:
            raise CardError(f"Cannot reach {exc.request.url}: {exc}") from exc
    token: str = session.json()["session_token"]
    return token


def _pin(given: str | None, *, confirm: bool = False) -> str:
    if given is not None:
        return given
    pin = getpass.getpass("Card PIN: ")
    if confirm and getpass.getpass("Card PIN again: ") != pin:
        raise CardError("The two PINs differ.")
    return pin


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.card", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="create the card's key pairs under a PIN")
    keygen.add_argument("--dir", type=Path, required=True)
    keygen.add_argument("--pin", help="asked for when omitted (a PIN on the command line shows in `ps`)")
    login = commands.add_parser("login", help="log in to My Portal and print the session token")
    login.add_argument("--jlis", required=True, help="J-LIS base URL, e.g. http://127.0.0.1:8101")
    login.add_argument("--portal", required=True, help="My Portal base URL")
    login.add_argument("--dir", type=Path, required=True)
    login.add_argument("--pin")
    login.add_argument("--certificate", type=Path, required=True, help="the card's authentication certificate")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            for path in generate_card_keys(args.dir, _pin(args.pin, confirm=True)).values():
                print(path)
            return 0
        try:
            certificate_pem = args.certificate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CardError(f"Cannot read the certificate {args.certificate}: {exc}") from exc
        key = load_card_key(args.dir / AUTH_KEY, _pin(args.pin))
        print(asyncio.run(card_login(args.jlis, args.portal, key, certificate_pem)))
        return 0
    except CardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
