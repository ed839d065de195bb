"""Obtaining the city's symbols (符号取得) at the broker with acquisition numbers from J-LIS."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.symbols.models import SymbolLink
from municipality.intermediate.symbols.schemas import SymbolLinkIn
from services.db import utc_now
from services.http import ServiceClient


async def obtain_symbols(
    session: AsyncSession, client: ServiceClient, broker_url: str, links: Sequence[SymbolLinkIn]
) -> int:
    answer = await client.call(
        "POST",
        f"{broker_url}/symbols",
        {"acquisition_numbers": [link.acquisition_number for link in links]},
        upstream="broker",
    )
    now = utc_now()
    for link, symbol in zip(links, answer["symbols"], strict=True):
        await session.merge(SymbolLink(address_number=link.address_number, symbol=symbol, obtained_at=now))
    await session.flush()
    return len(links)


async def symbol_for_address(session: AsyncSession, address_number: str) -> str | None:
    link = await session.get(SymbolLink, address_number)
    return link.symbol if link else None


async def address_for_symbol(session: AsyncSession, symbol: str) -> str | None:
    return await session.scalar(select(SymbolLink.address_number).where(SymbolLink.symbol == symbol))
