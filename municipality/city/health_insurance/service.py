"""Recording enrolments and withdrawals and pushing each as a copy dated the day it changed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.config import CitySettings
from municipality.city.copies import push_copies
from municipality.city.health_insurance.models import HealthInsuranceEnrollment
from municipality.city.health_insurance.schemas import EnrollmentIn
from municipality.city.registry.service import addresses_of_residents
from services.db import utc_now
from services.http import ServiceClient

SOURCE = "national_health_insurance"


async def record_enrollments(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, enrollments: Sequence[EnrollmentIn]
) -> int:
    addresses = await addresses_of_residents(session, [e.resident_code for e in enrollments])
    now = utc_now()
    for enrollment in enrollments:
        await session.merge(HealthInsuranceEnrollment(**enrollment.model_dump(), recorded_at=now))
    copies = [
        {
            "address_number": addresses[e.resident_code],
            "item_code": "nhi.enrollment",
            "period": e.changed_on.isoformat(),
            "value": e.status,
            "as_of": now.date().isoformat(),
        }
        for e in enrollments
    ]
    registered = await push_copies(client, settings, SOURCE, copies)
    await session.flush()
    return registered
