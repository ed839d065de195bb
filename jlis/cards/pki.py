"""J-LIS's certificate authority for the individual number card (公的個人認証サービス, JPKI).

A self-signed root CA signs one issuing CA; the issuing CA signs each card's two certificates
(利用者証明用 for logging in, 署名用 for signing documents), its CRL and its OCSP answers. This
module is pure X.509 (the `cryptography` package): no database, no HTTP.

Key store, created on first start under `JLIS_PKI_DIR` (default `JLIS_DATA_DIR/pki`)::

    root-ca.pem     root-ca.key      ECDSA P-384, 20 years, path length 1
    issuing-ca.pem  issuing-ca.key   ECDSA P-384, 10 years, path length 0

The root key is written once, when it signs the issuing CA, and never read again by the running
service: only the issuing key signs anything day to day.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

JST = timezone(timedelta(hours=9), "JST")
ROOT_CERTIFICATE, ROOT_KEY = "root-ca.pem", "root-ca.key"
ISSUING_CERTIFICATE, ISSUING_KEY = "issuing-ca.pem", "issuing-ca.key"
ROOT_YEARS, ISSUING_YEARS = 20, 10
CA_CURVE = ec.SECP384R1()
CA_HASH = hashes.SHA384()
CRL_PATH, OCSP_PATH = "/pki/crl.der", "/pki/ocsp"
CRL_LIFETIME = timedelta(days=1)
OCSP_LIFETIME = timedelta(hours=1)


def years_later(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def end_of_day_in_japan(day: date) -> datetime:
    """A card is valid through its expiry date, Japanese time."""
    return datetime.combine(day, time(23, 59, 59), JST)


@dataclass(frozen=True)
class CertificateAuthority:
    """The certificates relying parties trust and the one key that signs for the card PKI."""

    root_certificate: x509.Certificate
    issuing_certificate: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    public_url: str

    @property
    def crl_url(self) -> str:
        return f"{self.public_url.rstrip('/')}{CRL_PATH}"

    @property
    def ocsp_url(self) -> str:
        return f"{self.public_url.rstrip('/')}{OCSP_PATH}"

    def issued(self, certificate: x509.Certificate) -> bool:
        """Whether the issuing CA's key signed this certificate."""
        if certificate.issuer != self.issuing_certificate.subject:
            return False
        try:
            certificate.verify_directly_issued_by(self.issuing_certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True


def to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


# --- the key store ---------------------------------------------------------------------------


def load_or_create_authority(directory: Path, public_url: str) -> CertificateAuthority:
    """Load the CA from `directory`, creating root and issuing CA there on first start."""
    if not directory.exists() or not any(directory.iterdir()):
        _create_authority(directory)
    return _load_authority(directory, public_url)


def _create_authority(directory: Path) -> None:
    """Write all four files into a private staging directory, then rename it into place.

    The rename is atomic and refuses a non-empty target, so two replicas starting at once end
    up sharing whichever CA was renamed first, never a root of one and an issuing CA of the other.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))  # mode 0700
    try:
        for name, data in _new_authority_files(datetime.now(JST)).items():
            mode = 0o600 if name.endswith(".key") else 0o644
            fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        try:
            os.rename(staging, directory)
        except OSError:
            if not (directory / ISSUING_KEY).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _new_authority_files(now: datetime) -> dict[str, bytes]:
    root_key = ec.generate_private_key(CA_CURVE)
    issuing_key = ec.generate_private_key(CA_CURVE)
    root_name = _ca_name("mynumber-net JPKI Root CA")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(datetime.combine(years_later(now.date(), ROOT_YEARS), now.timetz()))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, CA_HASH)
    )
    issuing = (
        x509.CertificateBuilder()
        .subject_name(_ca_name("mynumber-net JPKI Issuing CA"))
        .issuer_name(root.subject)
        .public_key(issuing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(datetime.combine(years_later(now.date(), ISSUING_YEARS), now.timetz()))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()), critical=False)
        .add_extension(_authority_key_identifier(root), critical=False)
        .sign(root_key, CA_HASH)
    )
    return {
        ROOT_CERTIFICATE: root.public_bytes(serialization.Encoding.PEM),
        ROOT_KEY: _private_pem(root_key),
        ISSUING_CERTIFICATE: issuing.public_bytes(serialization.Encoding.PEM),
        ISSUING_KEY: _private_pem(issuing_key),
    }


def _load_authority(directory: Path, public_url: str) -> CertificateAuthority:
    missing = [name for name in (ROOT_CERTIFICATE, ISSUING_CERTIFICATE, ISSUING_KEY) if not (directory / name).exists()]
    if missing:
        raise RuntimeError(f"the card CA in {directory} is incomplete: {', '.join(missing)} missing")
    root = x509.load_pem_x509_certificate((directory / ROOT_CERTIFICATE).read_bytes())
    issuing = x509.load_pem_x509_certificate((directory / ISSUING_CERTIFICATE).read_bytes())
    key = serialization.load_pem_private_key((directory / ISSUING_KEY).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != issuing.public_key():
        raise RuntimeError(f"{directory / ISSUING_KEY} is not the key of {directory / ISSUING_CERTIFICATE}")
    try:
        issuing.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise RuntimeError(
            f"{directory / ISSUING_CERTIFICATE} was not issued by {directory / ROOT_CERTIFICATE}"
        ) from exc
    return CertificateAuthority(root, issuing, key, public_url)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "J-LIS"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return _key_usage(key_cert_sign=True, crl_sign=True)


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _authority_key_identifier(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    identifier = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier)


# --- card certificates -----------------------------------------------------------------------


def auth_certificate(
    ca: CertificateAuthority,
    public_key: ec.EllipticCurvePublicKey,
    card_id: str,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """利用者証明用電子証明書: proves "this is the holder of card X" and nothing about who they are."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"JPKI-AUTH {card_id}"),
        ]
    )
    return _card_certificate(
        ca,
        subject,
        public_key,
        not_before,
        not_after,
        [
            (_key_usage(digital_signature=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        ],
    )


def signing_certificate(
    ca: CertificateAuthority,
    public_key: ec.EllipticCurvePublicKey,
    name: str,
    address: str,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """署名用電子証明書: binds the holder's name and address to documents they sign."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.STREET_ADDRESS, address),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    return _card_certificate(
        ca,
        subject,
        public_key,
        not_before,
        not_after,
        [(_key_usage(digital_signature=True, content_commitment=True), True)],
    )


def _card_certificate(
    ca: CertificateAuthority,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
    extensions: Iterable[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.issuing_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_identifier(ca.issuing_certificate), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(ca.crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ca.ocsp_url)
                    )
                ]
            ),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(ca.issuing_key, CA_HASH)


# --- revocation: CRL and OCSP ----------------------------------------------------------------


@dataclass(frozen=True)
class Revocation:
    serial_number: int
    revoked_at: datetime
    reason: x509.ReasonFlags


def certificate_revocation_list(
    ca: CertificateAuthority, revocations: Iterable[Revocation], now: datetime
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuing_certificate.subject)
        .last_update(now)
        .next_update(now + CRL_LIFETIME)
        # A CRL number only ever grows (RFC 5280 §5.2.3): microseconds since the epoch do.
        .add_extension(x509.CRLNumber(int(now.timestamp() * 1_000_000)), critical=False)
        .add_extension(_authority_key_identifier(ca.issuing_certificate), critical=False)
    )
    for revocation in revocations:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revocation.serial_number)
            .revocation_date(revocation.revoked_at)
            .add_extension(x509.CRLReason(revocation.reason), critical=False)
            .build()
        )
    return builder.sign(ca.issuing_key, CA_HASH)


def read_ocsp_request(der: bytes) -> ocsp.OCSPRequest | None:
    """The request, or `None` when it is not one DER OCSP request for one certificate."""
    try:
        request = ocsp.load_der_ocsp_request(der)
        _ = (request.hash_algorithm, request.serial_number)  # an unknown hash is as bad as bad DER
    except (ValueError, UnsupportedAlgorithm):
        return None
    return request


def asks_about_our_certificates(ca: CertificateAuthority, request: ocsp.OCSPRequest) -> bool:
    """Whether the request names our issuing CA (by name hash and key hash, RFC 6960 §4.1.1)."""
    name_hash = hashes.Hash(request.hash_algorithm)
    name_hash.update(ca.issuing_certificate.subject.public_bytes())
    key_hash = hashes.Hash(request.hash_algorithm)
    key_hash.update(
        ca.issuing_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return request.issuer_name_hash == name_hash.finalize() and request.issuer_key_hash == key_hash.finalize()


def ocsp_answer(
    ca: CertificateAuthority,
    request: ocsp.OCSPRequest,
    status: ocsp.OCSPCertStatus,
    now: datetime,
    revocation: Revocation | None = None,
) -> bytes:
    """A signed OCSP response about the one certificate the request names."""
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + OCSP_LIFETIME,
            revocation_time=revocation.revoked_at if revocation else None,
            revocation_reason=revocation.reason if revocation else None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.issuing_certificate)
        .certificates([ca.issuing_certificate])
    )
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        pass
    else:
        builder = builder.add_extension(nonce, critical=False)
    return builder.sign(ca.issuing_key, CA_HASH).public_bytes(serialization.Encoding.DER)


def ocsp_refusal(status: ocsp.OCSPResponseStatus) -> bytes:
    """An unsigned OCSP response that says only why there is no answer (RFC 6960 §2.3)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
