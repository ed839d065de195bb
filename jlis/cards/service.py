"""Issuing and revoking individual number cards, answering for their certificates (CRL, OCSP),
and logging a resident in with the card's authentication key.

A city's counter asks J-LIS for a card for one of its (present or past) residents; J-LIS certifies
the two public keys the card generated. Reissue, loss, theft, return and a number change all
revoke certificates; relying parties learn of it from the CRL or OCSP.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import date, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.acquisition.service import person_serial_for_number
from jlis.authentication.service import issue_portal_assertion
from jlis.cards import pki
from jlis.cards.models import Card, CardCertificate, CardChallenge
from jlis.cards.schemas import CardLoginRequest, CardRevocation, Challenge, IssueCardRequest, IssuedCard
from jlis.numbers.service import has_lived_in, log_operation
from services.db import utc_now
from services.keys import ServiceKeys
from services.problems import BadRequest, Conflict, Forbidden, NotFound, Unauthenticated

AGE_OF_MAJORITY = 18
ADULT_CARD_BIRTHDAYS, MINOR_CARD_BIRTHDAYS = 10, 5

# Our reasons, and what the CRL and OCSP tell relying parties. A lost or stolen card means its
# keys may be in someone else's hands. A number change leaves the certificates' contents as they
# were but cuts the card's tie to the person's record, so it is the subject's "affiliation" that
# changed (RFC 5280 §5.3.1), which also keeps it apart from `superseded` (a reissued card).
REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    "lost": x509.ReasonFlags.key_compromise,
    "stolen": x509.ReasonFlags.key_compromise,
    "returned": x509.ReasonFlags.cessation_of_operation,
    "superseded": x509.ReasonFlags.superseded,
    "number_changed": x509.ReasonFlags.affiliation_changed,
}


# --- validity --------------------------------------------------------------------------------


def birthday_in(birth_date: date, year: int) -> date:
    """The birthday in `year`; someone born on 29 February has it on the 28th in a common year."""
    return pki.years_later(birth_date, year - birth_date.year)


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - (1 if day < birthday_in(birth_date, day.year) else 0)


def card_expiry(birth_date: date, issued_on: date) -> date:
    """The card (and its certificates) expire on the holder's 10th birthday after the issue date,
    or the 5th for a minor (under 18 on the issue date)."""
    birthdays = ADULT_CARD_BIRTHDAYS if age_on(birth_date, issued_on) >= AGE_OF_MAJORITY else MINOR_CARD_BIRTHDAYS
    first = birthday_in(birth_date, issued_on.year)
    first_year = first.year if first > issued_on else first.year + 1
    return birthday_in(birth_date, first_year + birthdays - 1)


# --- issuance and revocation -----------------------------------------------------------------


def _card_public_key(pem: str, field: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadRequest("public_key_invalid", f"{field} is not a PEM public key.", field=field) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadRequest("public_key_not_p256", f"{field} must be an EC P-256 key generated on the card.", field=field)
    return key


async def _require_resident(session: AsyncSession, person_serial: str, municipality_code: str) -> None:
    if not await has_lived_in(session, person_serial, municipality_code):
        raise Forbidden("not_a_resident", f"This person has never been a resident of {municipality_code}.")


async def issue_card(
    session: AsyncSession,
    ca: pki.CertificateAuthority,
    municipality_code: str,
    request: IssueCardRequest,
    *,
    issued_at: datetime | None = None,
) -> IssuedCard:
    """Certify the card's two keys for a resident of `municipality_code`; any card the person
    already holds is revoked as superseded (reissue)."""
    auth_key = _card_public_key(request.auth_public_key_pem, "auth_public_key_pem")
    signing_key = _card_public_key(request.signing_public_key_pem, "signing_public_key_pem")
    if auth_key == signing_key:
        raise BadRequest("card_keys_not_distinct", "The card's authentication and signing keys must differ.")
    person_serial = await person_serial_for_number(session, request.individual_number)
    await _require_resident(session, person_serial, municipality_code)
    now = issued_at or utc_now()
    issued_on = now.astimezone(pki.JST).date()
    if request.birth_date > issued_on:
        raise BadRequest("birth_date_invalid", "The birth date is after the issue date.")
    expires_on = card_expiry(request.birth_date, issued_on)
    await revoke_certificates_of_person(session, person_serial, "superseded", at=now)

    card_id = secrets.token_hex(16)
    not_after = pki.end_of_day_in_japan(expires_on)
    auth = pki.auth_certificate(ca, auth_key, card_id, now, not_after)
    signing = pki.signing_certificate(ca, signing_key, request.name, request.address, now, not_after)
    session.add(
        Card(card_id=card_id, person_serial=person_serial, issued_at=now, expires_on=expires_on, status="active")
    )
    try:
        await session.flush()  # the card before the certificates that reference it
    except IntegrityError as exc:  # one person, one active card: another issuance won the race
        raise Conflict("card_issuance_in_progress", "Another card was issued to this person just now.") from exc
    session.add_all(
        CardCertificate(
            serial_number=str(certificate.serial_number),
            card_id=card_id,
            kind=kind,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            pem=pki.to_pem(certificate),
        )
        for kind, certificate in (("auth", auth), ("sign", signing))
    )
    await log_operation(session, municipality_code, "card_issuance", f"issued:{card_id}", person_serial)
    await session.flush()
    return IssuedCard(
        card_id=card_id,
        expires_on=expires_on,
        auth_certificate_pem=pki.to_pem(auth),
        signing_certificate_pem=pki.to_pem(signing),
    )


async def _revoke(session: AsyncSession, cards: list[str], reason: str, at: datetime) -> list[str]:
    """Revoke the live certificates of these cards and mark the cards revoked; return the serials."""
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"unknown revocation reason {reason!r}; known: {', '.join(REVOCATION_REASONS)}")
    if not cards:
        return []
    revoked = await session.execute(
        update(CardCertificate)
        .where(CardCertificate.card_id.in_(cards), CardCertificate.revoked_at.is_(None))
        .values(revoked_at=at, revocation_reason=reason)
        .returning(CardCertificate.serial_number)
        .execution_options(synchronize_session=False)
    )
    serials = list(revoked.scalars().all())
    await session.execute(
        update(Card)
        .where(Card.card_id.in_(cards))
        .values(status="revoked")
        .execution_options(synchronize_session=False)
    )
    return serials


async def revoke_certificates_of_person(
    session: AsyncSession, person_serial: str, reason: str, *, at: datetime | None = None
) -> int:
    """Revoke every live certificate of every card this person holds; return how many.

    `reason` is one of `REVOCATION_REASONS` (`number_changed` when the individual number changes).
    """
    cards = list(
        await session.scalars(select(Card.card_id).where(Card.person_serial == person_serial, Card.status == "active"))
    )
    return len(await _revoke(session, cards, reason, at or utc_now()))


async def revoke_card(
    session: AsyncSession, card_id: str, municipality_code: str, reason: str, *, at: datetime | None = None
) -> CardRevocation:
    """A city's counter reports a card lost, stolen or handed back; both certificates are revoked."""
    card = await session.get(Card, card_id)
    if card is None:
        raise NotFound("unknown_card", "No card has this id.")
    await _require_resident(session, card.person_serial, municipality_code)
    if card.status != "active":
        raise Conflict("card_not_active", f"This card is already {card.status}.")
    now = at or utc_now()
    serials = await _revoke(session, [card_id], reason, now)
    await log_operation(session, municipality_code, "card_revocation", f"{reason}:{card_id}", card.person_serial)
    return CardRevocation(
        card_id=card_id, status="revoked", reason=reason, revoked_at=now, revoked_serial_numbers=serials
    )


# --- status: CRL and OCSP --------------------------------------------------------------------


def _revocation(record: CardCertificate) -> pki.Revocation:
    if record.revoked_at is None or record.revocation_reason is None:
        raise ValueError(f"certificate {record.serial_number} is not revoked")
    return pki.Revocation(int(record.serial_number), record.revoked_at, REVOCATION_REASONS[record.revocation_reason])


async def current_crl(
    session: AsyncSession, ca: pki.CertificateAuthority, *, now: datetime | None = None
) -> x509.CertificateRevocationList:
    """Every certificate J-LIS has revoked, with its reason and date, signed by the issuing CA."""
    revoked = await session.scalars(
        select(CardCertificate).where(CardCertificate.revoked_at.is_not(None)).order_by(CardCertificate.revoked_at)
    )
    return pki.certificate_revocation_list(ca, [_revocation(record) for record in revoked], now or utc_now())


async def answer_ocsp(
    session: AsyncSession, ca: pki.CertificateAuthority, der: bytes, *, now: datetime | None = None
) -> bytes:
    """The DER OCSP response to a DER OCSP request: good, revoked or unknown (never issued)."""
    request = pki.read_ocsp_request(der)
    if request is None:
        return pki.ocsp_refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not pki.asks_about_our_certificates(ca, request):
        return pki.ocsp_refusal(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    record = await session.get(CardCertificate, str(request.serial_number))
    now = now or utc_now()
    if record is None:
        return pki.ocsp_answer(ca, request, ocsp.OCSPCertStatus.UNKNOWN, now)
    if record.revoked_at is not None:
        return pki.ocsp_answer(ca, request, ocsp.OCSPCertStatus.REVOKED, now, _revocation(record))
    return pki.ocsp_answer(ca, request, ocsp.OCSPCertStatus.GOOD, now)


# --- card login ------------------------------------------------------------------------------


async def new_challenge(session: AsyncSession, ttl_seconds: int, *, now: datetime | None = None) -> Challenge:
    """A random single-use challenge for the card to sign; expired ones are swept as we go."""
    now = now or utc_now()
    await session.execute(delete(CardChallenge).where(CardChallenge.expires_at < now))
    challenge = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    expires_at = now + timedelta(seconds=ttl_seconds)
    session.add(CardChallenge(challenge=challenge, issued_at=now, expires_at=expires_at))
    await session.flush()
    return Challenge(challenge=challenge, expires_at=expires_at)


async def _trusted_auth_certificate(
    session: AsyncSession, ca: pki.CertificateAuthority, certificate_pem: str, now: datetime
) -> tuple[x509.Certificate, CardCertificate]:
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise Unauthenticated("certificate_not_trusted", "The certificate is not a PEM X.509 certificate.") from exc
    record = await session.get(CardCertificate, str(certificate.serial_number)) if ca.issued(certificate) else None
    if record is None or x509.load_pem_x509_certificate(record.pem.encode()) != certificate:
        raise Unauthenticated("certificate_not_trusted", "J-LIS did not issue this certificate.")
    if record.kind != "auth":
        raise Unauthenticated(
            "certificate_not_for_authentication", "Log in with the card's user-authentication certificate."
        )
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Unauthenticated("certificate_expired", "The certificate is outside its validity period.")
    if record.revoked_at is not None:
        raise Unauthenticated("certificate_revoked", "The certificate has been revoked.")
    return certificate, record


def _verify_challenge_signature(certificate: x509.Certificate, challenge: str, signature: str) -> None:
    try:
        der = base64.b64decode(signature.encode("ascii"), validate=True)
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        key.verify(der, challenge.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise Unauthenticated("signature_invalid", "The signature does not verify with the certificate's key.") from exc


async def _consume_challenge(session: AsyncSession, challenge: str, now: datetime) -> None:
    used = await session.execute(
        update(CardChallenge)
        .where(CardChallenge.challenge == challenge, CardChallenge.used_at.is_(None), CardChallenge.expires_at > now)
        .values(used_at=now)
        .returning(CardChallenge.challenge)
    )
    if used.first() is None:
        raise Unauthenticated("challenge_invalid", "The challenge is unknown, used or expired; ask for a new one.")


async def authenticate_card(
    session: AsyncSession,
    ca: pki.CertificateAuthority,
    keys: ServiceKeys,
    request: CardLoginRequest,
    *,
    now: datetime | None = None,
) -> str:
    """Card login (利用者証明): check the certificate, the card's signature over the challenge,
    and use the challenge up; then vouch for the holder to My Portal.

    The signature is checked before the challenge is used up, because a refused login rolls the
    transaction back: this way each challenge logs in at most once, whatever fails first.
    """
    now = now or utc_now()
    certificate, record = await _trusted_auth_certificate(session, ca, request.certificate_pem, now)
    _verify_challenge_signature(certificate, request.challenge, request.signature)
    await _consume_challenge(session, request.challenge, now)
    card = await session.get(Card, record.card_id)
    if card is None:  # the foreign key makes this impossible; refuse rather than assert
        raise Unauthenticated("certificate_not_trusted", "The certificate's card is unknown.")
    return await issue_portal_assertion(session, keys, card.person_serial, via="card-login")
