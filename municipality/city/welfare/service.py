"""Recording protection decisions and pushing this month's status for every household member:
a question about any of them (e.g. 保育料 for a child) gets the household's status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.config import CitySettings
from municipality.city.copies import push_copies
from municipality.city.registry.service import addresses_of_residents, household_members
from municipality.city.welfare.models import WelfareCase
from municipality.city.welfare.schemas import WelfareCaseIn
from services.db import utc_now
from services.http import ServiceClient

SOURCE = "welfare"


async def record_cases(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, cases: Sequence[WelfareCaseIn]
) -> int:
    await addresses_of_residents(session, [case.head_code for case in cases])  # 404 for an unknown head
    members = await household_members(session, [case.head_code for case in cases])
    addresses = await addresses_of_residents(session, [code for case in cases for code in members[case.head_code]])
    now, today = utc_now(), date.today()
    for case in cases:
        await session.merge(WelfareCase(**case.model_dump(), decided_at=now))
    copies = [
        {
            "address_number": addresses[code],
            "item_code": "welfare.protection_status",
            "period": today.strftime("%Y-%m"),
            "value": case.status,
            "as_of": today.isoformat(),
        }
        for case in cases
        for code in members[case.head_code]
    ]
    registered = await push_copies(client, settings, SOURCE, copies)
    await session.flush()
    return registered
