"""Deriving, storing and translating institution-specific symbols (符号).

symbol = base32(HMAC-SHA256(K_inst, serial))[:32], K_inst = HKDF(master, "symbol|code|epoch"):
fixed length, opaque, independent per institution under the broker's secret key, and moved
to a new epoch when an institution's set leaks. Only this module maps one institution's
symbol to another's (`translate_symbols`), and no endpoint ever returns another's symbol.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.symbols.models import InstitutionSymbol, SymbolEpoch
from services.db import utc_now
from services.http import ServiceClient
from services.problems import Conflict, DomainError, Forbidden


def institution_key(master_key: bytes, institution_code: str, epoch: int) -> bytes:
    info = f"symbol|{institution_code}|{epoch}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


def derive_symbol(master_key: bytes, institution_code: str, epoch: int, person_serial: str) -> str:
    [symbol] = derive_symbols(master_key, institution_code, epoch, [person_serial])
    return symbol


def derive_symbols(master_key: bytes, institution_code: str, epoch: int, person_serials: Sequence[str]) -> list[str]:
    """Many persons' symbols for one institution and epoch (the key is derived once)."""
    key = institution_key(master_key, institution_code, epoch)
    return [
        base64.b32encode(hmac.new(key, serial.encode(), hashlib.sha256).digest()[:20]).decode("ascii")
        for serial in person_serials
    ]


async def obtain_symbols(
    session: AsyncSession,
    client: ServiceClient,
    jlis_url: str,
    master_key: bytes,
    institution_code: str,
    acquisition_numbers: Sequence[str],
) -> list[str]:
    """Redeem the institution's acquisition numbers at J-LIS and return its symbols, in order."""
    state = await epoch_of(session, institution_code)
    if state.reissuing:
        raise reissue_in_progress(institution_code)
    answer = await client.call(
        "POST",
        f"{jlis_url}/acquisition-numbers/redeem",
        {"for_institution": institution_code, "acquisition_numbers": list(acquisition_numbers)},
        upstream="J-LIS",
    )
    return [
        await issued_symbol(session, master_key, institution_code, state.epoch, person["person_serial"])
        for person in answer["persons"]
    ]


async def issued_symbol(
    session: AsyncSession, master_key: bytes, institution_code: str, epoch: int, person_serial: str
) -> str:
    """The institution's symbol for the person in this epoch, issued (derived and kept) if it has
    none yet. Derivation is deterministic, so a symbol issued early is the one obtained later."""
    existing = await session.scalar(
        select(InstitutionSymbol.symbol).where(
            InstitutionSymbol.institution_code == institution_code,
            InstitutionSymbol.person_serial == person_serial,
            InstitutionSymbol.epoch == epoch,
        )
    )
    if existing is not None:
        return existing
    symbol = derive_symbol(master_key, institution_code, epoch, person_serial)
    session.add(
        InstitutionSymbol(
            institution_code=institution_code,
            symbol=symbol,
            person_serial=person_serial,
            epoch=epoch,
            issued_at=utc_now(),
        )
    )
    await session.flush()
    return symbol


@dataclass(frozen=True)
class EpochState:
    epoch: int
    reissuing: bool


async def epoch_of(session: AsyncSession, institution_code: str) -> EpochState:
    row = await session.get(SymbolEpoch, institution_code)
    return EpochState(row.epoch, row.reissuing) if row else EpochState(1, False)


def reissue_in_progress(institution_code: str) -> Conflict:
    return Conflict(
        "symbol_reissue_in_progress",
        f"{institution_code}'s symbols are being reissued; ask again in a minute.",
        retry_after_seconds=60,
    )


async def person_for_symbol(session: AsyncSession, institution_code: str, symbol: str) -> str | None:
    """The person behind one of the institution's symbols in force (none for revoked ones)."""
    row = await session.get(InstitutionSymbol, (institution_code, symbol))
    if row is None or row.epoch != (await epoch_of(session, institution_code)).epoch:
        return None
    return row.person_serial


@dataclass(frozen=True)
class Translation:
    """The person behind a requester's symbol and the provider's symbol for them, each None when
    unknown; `refusal` when the symbols may not be used now (revoked, or being reissued)."""

    person_serial: str | None
    provider_symbol: str | None
    refusal: DomainError | None = None


async def translate_symbols(
    session: AsyncSession, from_institution: str, symbols: Sequence[str], to_institution: str
) -> list[Translation]:
    """Each symbol's translation, in order, with a fixed number of queries for any batch size."""
    known = {
        row.symbol: row
        for row in await session.scalars(
            select(InstitutionSymbol).where(
                InstitutionSymbol.institution_code == from_institution, InstitutionSymbol.symbol.in_(set(symbols))
            )
        )
    }
    source, target = await epoch_of(session, from_institution), await epoch_of(session, to_institution)
    serials = {row.person_serial for row in known.values() if row.epoch == source.epoch}
    rows = await session.execute(
        select(InstitutionSymbol.person_serial, InstitutionSymbol.symbol).where(
            InstitutionSymbol.institution_code == to_institution,
            InstitutionSymbol.epoch == target.epoch,
            InstitutionSymbol.person_serial.in_(serials),
        )
    )
    provider_symbols = {serial: symbol for serial, symbol in rows}
    revoked = Forbidden(
        "symbol_revoked",
        f"This symbol of {from_institution} was revoked when its symbols were reissued; use the new one.",
    )
    translations = []
    for symbol in symbols:
        row = known.get(symbol)
        if row is None:
            translations.append(Translation(None, None))
        elif source.reissuing or target.reissuing:
            code = from_institution if source.reissuing else to_institution
            translations.append(Translation(row.person_serial, None, reissue_in_progress(code)))
        elif row.epoch != source.epoch:
            translations.append(Translation(row.person_serial, None, revoked))
        else:
            translations.append(Translation(row.person_serial, provider_symbols.get(row.person_serial)))
    return translations
