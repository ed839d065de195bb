"""Deriving, storing and translating institution-specific symbols (符号).

symbol = base32(HMAC-SHA256(K_inst, serial))[:32], K_inst = HKDF(master, "symbol|code|epoch"):
fixed length, opaque, independent per institution under the broker's secret key, and moved
to a new epoch when an institution's set leaks. Only this module maps one institution's
symbol to another's (`translate_symbol`), and no endpoint ever returns another's symbol.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.symbols.models import InstitutionSymbol
from services.db import utc_now
from services.http import ServiceClient

CURRENT_EPOCH = 1


def institution_key(master_key: bytes, institution_code: str, epoch: int) -> bytes:
    info = f"symbol|{institution_code}|{epoch}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


def derive_symbol(master_key: bytes, institution_code: str, epoch: int, person_serial: str) -> str:
    digest = hmac.new(institution_key(master_key, institution_code, epoch), person_serial.encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()[:20]).decode("ascii")


async def obtain_symbols(
    session: AsyncSession,
    client: ServiceClient,
    jlis_url: str,
    master_key: bytes,
    institution_code: str,
    acquisition_numbers: Sequence[str],
) -> list[str]:
    """Redeem the institution's acquisition numbers at J-LIS and return its symbols, in order."""
    answer = await client.call(
        "POST",
        f"{jlis_url}/acquisition-numbers/redeem",
        {"for_institution": institution_code, "acquisition_numbers": list(acquisition_numbers)},
        upstream="J-LIS",
    )
    symbols: list[str] = []
    for person in answer["persons"]:
        serial = person["person_serial"]
        existing = await symbol_for_person(session, institution_code, serial)
        if existing is None:
            existing = derive_symbol(master_key, institution_code, CURRENT_EPOCH, serial)
            session.add(
                InstitutionSymbol(
                    institution_code=institution_code,
                    symbol=existing,
                    person_serial=serial,
                    epoch=CURRENT_EPOCH,
                    issued_at=utc_now(),
                )
            )
            await session.flush()
        symbols.append(existing)
    return symbols


async def person_for_symbol(session: AsyncSession, institution_code: str, symbol: str) -> str | None:
    row = await session.get(InstitutionSymbol, (institution_code, symbol))
    return row.person_serial if row else None


async def symbol_for_person(session: AsyncSession, institution_code: str, person_serial: str) -> str | None:
    return await session.scalar(
        select(InstitutionSymbol.symbol).where(
            InstitutionSymbol.institution_code == institution_code,
            InstitutionSymbol.person_serial == person_serial,
            InstitutionSymbol.epoch == CURRENT_EPOCH,
        )
    )


async def translate_symbol(
    session: AsyncSession, from_institution: str, symbol: str, to_institution: str
) -> tuple[str | None, str | None]:
    """(person serial, the other institution's symbol) — either may be None when unknown."""
    serial = await person_for_symbol(session, from_institution, symbol)
    if serial is None:
        return None, None
    return serial, await symbol_for_person(session, to_institution, serial)
