"""The individual number card's PKI: certificates a city's residents can use anywhere that trusts
J-LIS's root, valid until the right birthday, and revoked visibly (CRL, OCSP) when a card is lost,
returned, reissued or the number changes."""

from __future__ import annotations

import os
import secrets
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from jlis.cards.pki import JST, load_or_create_authority
from jlis.cards.service import card_expiry, revoke_certificates_of_person
from jlis.numbers.models import IndividualNumber, NumberOperation
from tests.support import InProcessNetwork
from tests.unit.jlis.card_support import (
    ADDRESS,
    NAME,
    CardKeys,
    authority,
    card_issued_at,
    certificate,
    new_card,
    ocsp_request_for,
    ocsp_status,
    public_pem,
    request_card,
    revoke,
)
from tests.unit.jlis.network import BROKER, HIGASHIMURAYAMA, JLIS, issue_numbers, problem_code

ISSUE_DAY = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 10:00 in Japan


async def get(network: InProcessNetwork, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as anyone:
        return await anyone.get(path)


def write_pems(directory: Path, **pems: str) -> None:
    for name, pem in pems.items():
        (directory / f"{name}.pem").write_text(pem, encoding="ascii")


def openssl(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, check=False)


def openssl_verify(tmp_path: Path, root_pem: str, issuing_pem: str, card_pem: str) -> subprocess.CompletedProcess[str]:
    write_pems(tmp_path, root=root_pem, issuing=issuing_pem, card=card_pem)
    return openssl(tmp_path, "verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "card.pem")


# --- issuance --------------------------------------------------------------------------------


async def test_both_card_certificates_verify_with_openssl_against_the_published_root(
    network: InProcessNetwork, tmp_path: Path
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    ca = (await get(network, "/pki/ca")).json()
    for pem in (card.auth_certificate_pem, card.signing_certificate_pem):
        verified = openssl_verify(tmp_path, ca["root_certificate_pem"], ca["issuing_certificate_pem"], pem)
        assert (verified.returncode, verified.stdout.strip()) == (0, "card.pem: OK"), verified.stderr
    stranger_root = openssl_verify(tmp_path, ca["issuing_certificate_pem"], ca["issuing_certificate_pem"], pem)
    assert stranger_root.returncode != 0, "the issuing CA alone is not a trust anchor"


async def test_authentication_certificate_names_nobody_and_signing_certificate_names_the_holder(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    auth, signing = certificate(card.auth_certificate_pem), certificate(card.signing_certificate_pem)
    auth_der = auth.public_bytes(serialization.Encoding.DER)
    for personal in (NAME, ADDRESS, number, "12345678901", "1980-05-10", "19800510"):
        assert personal not in auth.subject.rfc4514_string()
        assert personal.encode() not in auth_der
    assert auth.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"JPKI-AUTH {card.card_id}"
    assert signing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == NAME
    assert signing.subject.get_attributes_for_oid(NameOID.STREET_ADDRESS)[0].value == ADDRESS
    assert number not in signing.subject.rfc4514_string()


async def test_certificates_say_what_they_are_for_and_where_to_check_them(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    auth, signing = certificate(card.auth_certificate_pem), certificate(card.signing_certificate_pem)
    auth_usage = auth.extensions.get_extension_for_class(x509.KeyUsage).value
    signing_usage = signing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (auth_usage.digital_signature, auth_usage.content_commitment) == (True, False)
    assert (signing_usage.digital_signature, signing_usage.content_commitment) == (True, True)
    assert list(auth.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    issuing = authority(network).issuing_certificate
    issuing_key_id = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    for cert in (auth, signing):
        assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == (
            issuing_key_id
        )
        [crl_point] = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert crl_point.full_name is not None
        assert crl_point.full_name[0].value == "http://127.0.0.1:8101/pki/crl.der"
        [ocsp_access] = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        assert ocsp_access.access_location.value == "http://127.0.0.1:8101/pki/ocsp"
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


async def test_card_certifies_exactly_the_keys_the_card_generated(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    card = await new_card(network, number, keys)
    assert certificate(card.auth_certificate_pem).public_key() == keys.auth.public_key()
    assert certificate(card.signing_certificate_pem).public_key() == keys.sign.public_key()


@pytest.mark.parametrize(
    ("birth_date", "expires_on"),
    [
        (date(1980, 5, 10), date(2036, 5, 10)),  # adult: 10th birthday after issue
        (date(2015, 3, 1), date(2031, 3, 1)),  # minor: 5th birthday after issue
        (date(2009, 1, 10), date(2031, 1, 10)),  # 17 on the issue day: still a minor
        (date(2008, 11, 29), date(2036, 11, 29)),  # 18 on the issue day: an adult
        (date(2000, 2, 29), date(2036, 2, 29)),  # 29 February, expiring in a leap year
        (date(2012, 2, 29), date(2031, 2, 28)),  # 29 February, expiring in a common year
    ],
    ids=["adult", "minor", "seventeen", "eighteen-today", "feb29-leap", "feb29-common"],
)
async def test_card_and_certificates_expire_on_the_right_birthday(
    network: InProcessNetwork, birth_date: date, expires_on: date
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await card_issued_at(network, number, birth_date, ISSUE_DAY)
    assert card.expires_on == expires_on
    for pem in (card.auth_certificate_pem, card.signing_certificate_pem):
        cert = certificate(pem)
        assert cert.not_valid_before_utc == ISSUE_DAY
        assert cert.not_valid_after_utc.astimezone(JST).date() == expires_on


@given(st.dates(date(1900, 1, 1), date(2026, 11, 29)), st.dates(date(2026, 11, 29), date(2060, 12, 31)))
def test_expiry_is_a_birthday_five_or_ten_years_out(birth_date: date, issued_on: date) -> None:
    expiry = card_expiry(birth_date, issued_on)
    assert issued_on < expiry
    assert (expiry.month, expiry.day) == (birth_date.month, birth_date.day) or (
        (birth_date.month, birth_date.day, expiry.month, expiry.day) == (2, 29, 2, 28)
    )
    assert expiry.year - issued_on.year in (4, 5, 9, 10)


async def test_city_where_the_person_never_lived_may_not_issue_their_card(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    response = await request_card(network, CardKeys().request(number), city=HIGASHIMURAYAMA)
    assert response.status_code == 403
    assert problem_code(response) == "not_a_resident"


async def test_only_a_citys_own_systems_may_issue_cards(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    response = await request_card(network, CardKeys().request(number), city=BROKER)
    assert response.status_code == 403
    assert problem_code(response) == "caller_not_permitted"


async def test_card_for_a_number_nobody_holds_is_refused(network: InProcessNetwork) -> None:
    response = await request_card(network, CardKeys().request("621498320257"))
    assert response.status_code == 404
    assert problem_code(response) == "unknown_individual_number"


@pytest.mark.parametrize(
    ("key_pem", "code"),
    [
        (public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "public_key_not_p256"),
        (public_pem(ec.generate_private_key(ec.SECP384R1())), "public_key_not_p256"),
        ("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n", "public_key_invalid"),
    ],
    ids=["rsa", "p384", "garbage"],
)
async def test_card_keys_must_be_p256(network: InProcessNetwork, key_pem: str, code: str) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    body = CardKeys().request(number) | {"auth_public_key_pem": key_pem}
    response = await request_card(network, body)
    assert response.status_code == 400
    assert problem_code(response) == code
    assert response.json()["field"] == "auth_public_key_pem"


async def test_one_key_may_not_serve_as_both_card_keys(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    keys = CardKeys()
    body = keys.request(number) | {"signing_public_key_pem": public_pem(keys.auth)}
    response = await request_card(network, body)
    assert response.status_code == 400
    assert problem_code(response) == "card_keys_not_distinct"


async def test_birth_date_after_the_issue_date_is_refused(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    response = await request_card(network, CardKeys().request(number, birth_date="2099-01-01"))
    assert response.status_code == 400
    assert problem_code(response) == "birth_date_invalid"


# --- revocation, CRL, OCSP -------------------------------------------------------------------


async def test_lost_card_is_listed_in_the_crl_with_its_reason(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    revoked = await revoke(network, card.card_id, "lost")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    serials = {certificate(pem).serial_number for pem in (card.auth_certificate_pem, card.signing_certificate_pem)}
    assert {int(serial) for serial in revoked.json()["revoked_serial_numbers"]} == serials

    der, pem = await get(network, "/pki/crl.der"), await get(network, "/pki/crl.pem")
    assert der.headers["content-type"] == "application/pkix-crl"
    issuing = authority(network).issuing_certificate
    issuing_key = issuing.public_key()
    assert isinstance(issuing_key, ec.EllipticCurvePublicKey)
    for crl in (x509.load_der_x509_crl(der.content), x509.load_pem_x509_crl(pem.content)):
        assert crl.is_signature_valid(issuing_key)
        assert crl.issuer == issuing.subject
        assert crl.next_update_utc is not None
        assert (crl.next_update_utc - crl.last_update_utc).days == 1
        assert {entry.serial_number for entry in crl} == serials
        for serial in serials:
            entry = crl.get_revoked_certificate_by_serial_number(serial)
            assert entry is not None
            assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
                x509.ReasonFlags.key_compromise
            )
            assert entry.revocation_date_utc.date() == datetime.now(UTC).date()


async def test_crl_lists_nothing_before_any_revocation(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    await new_card(network, number)
    crl = x509.load_der_x509_crl((await get(network, "/pki/crl.der")).content)
    assert len(crl) == 0


async def test_ocsp_answers_revoked_good_and_unknown(network: InProcessNetwork) -> None:
    numbers = await issue_numbers(network, ["12345678901", "22222222222"])
    returned, live = await new_card(network, numbers[0]), await new_card(network, numbers[1])
    assert (await revoke(network, returned.card_id, "returned")).status_code == 200
    issuing = authority(network).issuing_certificate

    revoked_http, revoked = await ocsp_status(
        network, ocsp_request_for(certificate(returned.auth_certificate_pem), issuing)
    )
    assert revoked_http.headers["content-type"] == "application/ocsp-response"
    assert revoked.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason == x509.ReasonFlags.cessation_of_operation
    assert revoked.revocation_time_utc is not None

    _, good = await ocsp_status(network, ocsp_request_for(certificate(live.signing_certificate_pem), issuing))
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD

    never_issued = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        revoked.issuer_name_hash, revoked.issuer_key_hash, x509.random_serial_number(), hashes.SHA256()
    )
    _, unknown = await ocsp_status(network, never_issued.build())
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN

    for answer in (revoked, good, unknown):
        assert answer.signature_hash_algorithm is not None
        public_key = issuing.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        public_key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(answer.signature_hash_algorithm))


async def test_openssl_ocsp_checks_jlis_answers(network: InProcessNetwork, tmp_path: Path) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    await revoke(network, card.card_id, "stolen")
    ca = (await get(network, "/pki/ca")).json()
    write_pems(
        tmp_path,
        root=ca["root_certificate_pem"],
        issuing=ca["issuing_certificate_pem"],
        card=card.auth_certificate_pem,
    )
    common = ["ocsp", "-issuer", "issuing.pem", "-cert", "card.pem"]
    assert openssl(tmp_path, *common, "-reqout", "request.der").returncode == 0
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as relying_party:
        answer = await relying_party.post(
            "/pki/ocsp",
            content=(tmp_path / "request.der").read_bytes(),
            headers={"content-type": "application/ocsp-request"},
        )
    (tmp_path / "response.der").write_bytes(answer.content)
    # -no_nonce: with -cert, openssl compares the answer with a fresh request of its own.
    checked = openssl(tmp_path, *common, "-no_nonce", "-respin", "response.der", "-CAfile", "root.pem")
    assert checked.returncode == 0, checked.stderr
    assert "Response verify OK" in checked.stderr + checked.stdout
    assert "card.pem: revoked" in checked.stdout
    assert "Reason: keyCompromise" in checked.stdout


async def test_ocsp_echoes_the_request_nonce(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    nonce = secrets.token_bytes(16)
    card_cert = certificate(card.auth_certificate_pem)
    request = (
        ocsp.OCSPRequestBuilder()
        # SHA-1 CertIDs are what `openssl ocsp` sends by default; they name, not protect, the issuer.
        .add_certificate(card_cert, authority(network).issuing_certificate, hashes.SHA1())  # noqa: S303
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    _, answer = await ocsp_status(network, request)
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce


async def test_malformed_ocsp_request_gets_an_ocsp_malformed_request_answer(network: InProcessNetwork) -> None:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as relying_party:
        response = await relying_party.post(
            "/pki/ocsp", content=b"not DER", headers={"content-type": "application/ocsp-request"}
        )
    assert response.status_code == 200
    assert ocsp.load_der_ocsp_response(response.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


async def test_ocsp_does_not_answer_for_another_issuer(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    request = ocsp_request_for(certificate(card.auth_certificate_pem), authority(network).root_certificate)
    _, answer = await ocsp_status(network, request)
    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


async def test_reissuing_a_card_revokes_the_old_cards_certificates(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    old, new = await new_card(network, number), await new_card(network, number)
    issuing = authority(network).issuing_certificate
    for pem in (old.auth_certificate_pem, old.signing_certificate_pem):
        _, answer = await ocsp_status(network, ocsp_request_for(certificate(pem), issuing))
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_reason == x509.ReasonFlags.superseded
    for pem in (new.auth_certificate_pem, new.signing_certificate_pem):
        _, answer = await ocsp_status(network, ocsp_request_for(certificate(pem), issuing))
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    again = await revoke(network, old.card_id, "lost")
    assert again.status_code == 409
    assert problem_code(again) == "card_not_active"


async def test_city_where_the_person_never_lived_may_not_revoke_their_card(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    refused = await revoke(network, card.card_id, "stolen", city=HIGASHIMURAYAMA)
    unknown = await revoke(network, "0" * 32, "stolen")
    assert refused.status_code == 403
    assert problem_code(refused) == "not_a_resident"
    assert unknown.status_code == 404
    assert problem_code(unknown) == "unknown_card"
    crl = x509.load_der_x509_crl((await get(network, "/pki/crl.der")).content)
    assert len(crl) == 0, "the refused revocation revoked nothing"


async def test_revocation_reason_must_be_one_a_city_may_give(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    response = await revoke(network, card.card_id, "superseded")
    assert response.status_code == 422
    assert problem_code(response) == "invalid_request"


async def test_number_change_revokes_every_certificate_of_the_person(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    database = network.runtime(JLIS).database
    async with database.sessions() as session:
        record = await session.get(IndividualNumber, number)
        assert record is not None
        revoked = await revoke_certificates_of_person(session, record.person_serial, "number_changed")
        again = await revoke_certificates_of_person(session, record.person_serial, "number_changed")
        await session.commit()
    assert (revoked, again) == (2, 0)
    crl = x509.load_der_x509_crl((await get(network, "/pki/crl.der")).content)
    reasons = {entry.extensions.get_extension_for_class(x509.CRLReason).value.reason for entry in crl}
    assert len(crl) == 2
    assert reasons == {x509.ReasonFlags.affiliation_changed}
    refused = await revoke(network, card.card_id, "lost")
    assert problem_code(refused) == "card_not_active"


async def test_unknown_revocation_reason_is_a_programming_error(network: InProcessNetwork) -> None:
    async with network.runtime(JLIS).database.sessions() as session:
        with pytest.raises(ValueError, match="unknown revocation reason"):
            await revoke_certificates_of_person(session, "0" * 32, "bored")


async def test_card_issuance_and_revocation_are_in_the_number_operations_log(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, number)
    await revoke(network, card.card_id, "returned")
    async with network.runtime(JLIS).database.sessions() as session:
        logged = (
            await session.execute(
                select(NumberOperation.caller, NumberOperation.operation, NumberOperation.outcome).where(
                    NumberOperation.operation.in_(["card_issuance", "card_revocation"])
                )
            )
        ).all()
    assert sorted(map(tuple, logged)) == [
        ("132110", "card_issuance", f"issued:{card.card_id}"),
        ("132110", "card_revocation", f"returned:{card.card_id}"),
    ]


# --- the key store ---------------------------------------------------------------------------


def test_ca_is_created_once_and_kept_across_restarts(tmp_path: Path) -> None:
    first = load_or_create_authority(tmp_path / "pki", "http://jlis.test")
    again = load_or_create_authority(tmp_path / "pki", "http://jlis.test")
    assert again.root_certificate == first.root_certificate
    assert again.issuing_certificate == first.issuing_certificate
    modes = {path.name: path.stat().st_mode & 0o777 for path in (tmp_path / "pki").iterdir()}
    assert modes["root-ca.key"] == modes["issuing-ca.key"] == 0o600
    assert set(modes) == {"root-ca.pem", "root-ca.key", "issuing-ca.pem", "issuing-ca.key"}
    assert [path.name for path in tmp_path.iterdir()] == ["pki"], "no staging directory is left behind"


def test_ca_certificates_have_the_documented_shape(tmp_path: Path) -> None:
    ca = load_or_create_authority(tmp_path / "pki", "http://jlis.test")
    root, issuing = ca.root_certificate, ca.issuing_certificate
    root_constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    issuing_constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert (root_constraints.ca, root_constraints.path_length) == (True, 1)
    assert (issuing_constraints.ca, issuing_constraints.path_length) == (True, 0)
    for cert, years in ((root, 20), (issuing, 10)):
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert key.curve.name == "secp384r1"
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature) == (True, True, False)
        assert cert.not_valid_after_utc.year - cert.not_valid_before_utc.year == years
    issuing.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)


def test_an_incomplete_key_store_stops_the_service_instead_of_making_a_new_ca(tmp_path: Path) -> None:
    load_or_create_authority(tmp_path / "pki", "http://jlis.test")
    os.remove(tmp_path / "pki" / "issuing-ca.key")
    with pytest.raises(RuntimeError, match="incomplete"):
        load_or_create_authority(tmp_path / "pki", "http://jlis.test")
