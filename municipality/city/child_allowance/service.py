"""Recording child allowance decisions and pushing this month's payment as a copy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.child_allowance.models import ChildAllowanceRecipient
from municipality.city.child_allowance.schemas import RecipientIn
from municipality.city.config import CitySettings
from municipality.city.copies import push_copies
from municipality.city.registry.service import addresses_of_residents
from services.db import utc_now
from services.http import ServiceClient

SOURCE = "child_allowance"


async def record_recipients(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, recipients: Sequence[RecipientIn]
) -> int:
    """Store the decisions and push each recipient's payment for this month; returns the copies."""
    addresses = await addresses_of_residents(session, [r.recipient_code for r in recipients])
    now, today = utc_now(), date.today()
    for recipient in recipients:
        await session.merge(ChildAllowanceRecipient(**recipient.model_dump(), decided_at=now))
    copies = [
        {
            "address_number": addresses[r.recipient_code],
            "item_code": "child_allowance.payment",
            "period": today.strftime("%Y-%m"),
            "value": r.monthly_amount,
            "as_of": today.isoformat(),
        }
        for r in recipients
    ]
    registered = await push_copies(client, settings, SOURCE, copies)
    await session.flush()
    return registered
