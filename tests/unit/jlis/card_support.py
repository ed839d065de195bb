"""Cards for J-LIS tests: key pairs as a card would generate them, and a city's issuance request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509 import ocsp

from jlis.cards.pki import CertificateAuthority
from jlis.cards.schemas import IssueCardRequest, IssuedCard
from jlis.cards.service import issue_card
from tests.support import InProcessNetwork
from tests.unit.jlis.network import JLIS, KODAIRA

NAME = "山田 太郎"
ADDRESS = "東京都小平市小川町一丁目1番地"


def public_pem(key: PrivateKeyTypes) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class CardKeys:
    """The two key pairs a card generates on its chip."""

    auth: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    sign: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def request(self, individual_number: str, birth_date: str = "1980-05-10") -> dict[str, Any]:
        return {
            "individual_number": individual_number,
            "auth_public_key_pem": public_pem(self.auth),
            "signing_public_key_pem": public_pem(self.sign),
            "name": NAME,
            "address": ADDRESS,
            "birth_date": birth_date,
        }


def authority(network: InProcessNetwork) -> CertificateAuthority:
    ca: CertificateAuthority = network.apps[JLIS].state.certificate_authority
    return ca


async def request_card(network: InProcessNetwork, body: dict[str, Any], *, city: str = KODAIRA) -> httpx.Response:
    async with network.client_for(JLIS, signed_as=city) as client:
        return await client.post("/cards", json=body)


async def new_card(network: InProcessNetwork, individual_number: str, keys: CardKeys | None = None) -> IssuedCard:
    response = await request_card(network, (keys or CardKeys()).request(individual_number))
    assert response.status_code == 201, response.text
    return IssuedCard.model_validate(response.json())


async def card_issued_at(
    network: InProcessNetwork, individual_number: str, birth_date: date, issued_at: datetime, *, city: str = "132110"
) -> IssuedCard:
    """A card issued through the service function at a chosen moment (no clock patching)."""
    request = IssueCardRequest.model_validate(CardKeys().request(individual_number, birth_date.isoformat()))
    async with network.runtime(JLIS).database.sessions() as session:
        card = await issue_card(session, authority(network), city, request, issued_at=issued_at)
        await session.commit()
    return card


async def revoke(network: InProcessNetwork, card_id: str, reason: str, *, city: str = KODAIRA) -> httpx.Response:
    async with network.client_for(JLIS, signed_as=city) as client:
        return await client.post(f"/cards/{card_id}/revocation", json={"reason": reason})


def certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


async def ocsp_status(network: InProcessNetwork, request: ocsp.OCSPRequest) -> tuple[httpx.Response, ocsp.OCSPResponse]:
    der = request.public_bytes(serialization.Encoding.DER)
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as relying_party:
        response = await relying_party.post(
            "/pki/ocsp", content=der, headers={"content-type": "application/ocsp-request"}
        )
    return response, ocsp.load_der_ocsp_response(response.content)


def ocsp_request_for(cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPRequest:
    return ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
