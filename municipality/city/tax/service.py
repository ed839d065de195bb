"""Assessing resident tax and registering its copies (副本) in the intermediate server.

The copy names the person by address number only; the values are what other institutions may
ask for under the whitelist (taxable income and income-based levy, per tax year).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.config import CitySettings
from municipality.city.copies import push_copies
from municipality.city.registry.service import addresses_of_residents
from municipality.city.tax.models import TaxAssessment
from municipality.city.tax.schemas import AssessmentIn
from services.db import utc_now
from services.http import ServiceClient

TAX_SOURCE = "individual_resident_tax"  # the source system's code in the intermediate server's catalogue


async def register_assessments(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, assessments: Sequence[AssessmentIn]
) -> int:
    """Store the assessments and push their copies; returns the number of copies registered."""
    addresses = await addresses_of_residents(session, [a.resident_code for a in assessments])
    now = utc_now()
    for a in assessments:
        await session.merge(TaxAssessment(**a.model_dump(), assessed_at=now))
    today = date.today().isoformat()
    copies = [
        {
            "address_number": addresses[a.resident_code],
            "item_code": item_code,
            "period": str(a.tax_year),
            "value": value,
            "as_of": today,
        }
        for a in assessments
        for item_code, value in (("tax.taxable_income", a.taxable_income), ("tax.income_levy", a.income_levy))
    ]
    # One batch for the whole request: a refusal rolls back these assessments too.
    registered = await push_copies(client, settings, TAX_SOURCE, copies)
    await session.flush()
    return registered
