"""SKI 情報照会: a staff member asks another institution, through the broker, for items of a
person the city knows by address number. The role is checked here before anything leaves the
city; the answer arrives sealed to this server and is opened only here. Every attempt is logged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.service import AccessFacts, log_staff_access
from municipality.intermediate.queries.schemas import ProvidedItem, StaffQueryAnswer, StaffQueryIn
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.symbols.service import symbol_for_address
from services.app import Runtime
from services.problems import DomainError, Forbidden, NotFound
from services.rbac import RoleGrants
from services.sealing import open_sealed_json


async def query_other_institution(
    session: AsyncSession, runtime: Runtime, grants: RoleGrants, staff: StaffMember, query: StaffQueryIn
) -> StaffQueryAnswer:
    facts = AccessFacts(
        staff_id=staff.staff_id,
        department=staff.department,
        address_number=query.address_number,
        procedure_code=query.procedure_code,
        item_codes=sorted(set(query.item_codes)),
        provider_code=query.provider_code,
    )
    try:
        ungranted = grants.ungranted_items(staff.department, query.procedure_code, facts.item_codes)
        if ungranted:
            raise Forbidden(
                "item_not_permitted_for_role",
                f"{staff.department} may not see {', '.join(ungranted)} under {query.procedure_code}.",
            )
        symbol = await symbol_for_address(session, query.address_number)
        if symbol is None:
            raise NotFound("unknown_address_number", "No symbol is held for this address number.")
        answer = await runtime.client.call(
            "POST",
            f"{runtime.settings.broker_url}/queries",
            {
                "requester_symbol": symbol,
                "procedure_code": query.procedure_code,
                "provider_code": query.provider_code,
                "item_codes": facts.item_codes,
            },
            upstream="broker",
        )
    except DomainError as error:
        await log_staff_access(runtime.database, facts, f"refused:{error.code}")
        raise
    payload = open_sealed_json(answer["ciphertext"], runtime.keys.encryption_key)
    await log_staff_access(runtime.database, facts, "read")
    return StaffQueryAnswer(
        query_id=answer["query_id"],
        provider_code=answer["provider_code"],
        whitelist_row=answer["whitelist_row"],
        items=[ProvidedItem(**item) for item in payload["items"]],
        missing_items=payload["missing_items"],
    )
