"""HTTP: cities issue and revoke cards; anyone reads the CA, the CRL and OCSP; residents log in
with their card."""

from typing import Annotated

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Depends, Request, Response

from jlis.authentication.schemas import LoginAssertion
from jlis.authentication.service import ASSERTION_TTL_SECONDS
from jlis.cards import service
from jlis.cards.pki import CertificateAuthority, to_pem
from jlis.cards.schemas import (
    CaCertificates,
    CardLoginRequest,
    CardRevocation,
    Challenge,
    IssueCardRequest,
    IssuedCard,
    RevokeCardRequest,
)
from jlis.config import JlisSettings
from services.app import DbSession, RuntimeDep, SignedCaller, settings_of
from services.rbac import require_caller


def get_authority(request: Request) -> CertificateAuthority:
    authority: CertificateAuthority = request.app.state.certificate_authority
    return authority


Authority = Annotated[CertificateAuthority, Depends(get_authority)]

cards_router = APIRouter(tags=["individual number cards"])
pki_router = APIRouter(prefix="/pki", tags=["card PKI"])


@cards_router.post("/cards", response_model=IssuedCard, status_code=201)
async def post_card(body: IssueCardRequest, caller: SignedCaller, session: DbSession, ca: Authority) -> IssuedCard:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    return await service.issue_card(session, ca, caller.institution_code, body)


@cards_router.post("/cards/{card_id}/revocation", response_model=CardRevocation)
async def post_card_revocation(
    card_id: str, body: RevokeCardRequest, caller: SignedCaller, session: DbSession
) -> CardRevocation:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    return await service.revoke_card(session, card_id, caller.institution_code, body.reason)


@pki_router.get("/ca", response_model=CaCertificates)
async def get_ca(ca: Authority) -> CaCertificates:
    return CaCertificates(
        root_certificate_pem=to_pem(ca.root_certificate), issuing_certificate_pem=to_pem(ca.issuing_certificate)
    )


@pki_router.get("/crl.der", response_class=Response)
async def get_crl_der(session: DbSession, ca: Authority) -> Response:
    crl = await service.current_crl(session, ca)
    return Response(crl.public_bytes(Encoding.DER), media_type="application/pkix-crl")


@pki_router.get("/crl.pem", response_class=Response)
async def get_crl_pem(session: DbSession, ca: Authority) -> Response:
    crl = await service.current_crl(session, ca)
    return Response(crl.public_bytes(Encoding.PEM), media_type="application/x-pem-file")


@pki_router.post("/ocsp", response_class=Response)
async def post_ocsp(request: Request, session: DbSession, ca: Authority) -> Response:
    """RFC 6960 over HTTP POST: a DER request in (`application/ocsp-request`), a DER response out."""
    answer = await service.answer_ocsp(session, ca, await request.body())
    return Response(answer, media_type="application/ocsp-response")


@pki_router.post("/challenges", response_model=Challenge, status_code=201)
async def post_challenge(session: DbSession, runtime: RuntimeDep) -> Challenge:
    return await service.new_challenge(session, settings_of(runtime, JlisSettings).card_challenge_ttl_seconds)


@pki_router.post("/authentications", response_model=LoginAssertion)
async def post_authentication(
    body: CardLoginRequest, session: DbSession, runtime: RuntimeDep, ca: Authority
) -> LoginAssertion:
    """Card login: unauthenticated by design (the resident's browser or CLI calls it)."""
    assertion = await service.authenticate_card(session, ca, runtime.keys, body)
    return LoginAssertion(assertion=assertion, expires_in=ASSERTION_TTL_SECONDS)
