"""SCM 閲覧: a staff member reads the latest copies (副本) this city holds of a person, limited
to the items the department's role may view (rule 6). Every read and every refusal goes to the
staff access log (rule 5), as queries do; the log names the operation instead of a procedure and
this city as the provider, since the data never leaves it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.service import AccessFacts, log_staff_access
from municipality.intermediate.copies.service import latest_copies
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.views.schemas import CopiesView, ViewedItem
from services.app import Runtime
from services.problems import DomainError, Forbidden
from services.rbac import RoleGrants

VIEW_COPIES = "copies.view"  # the access log's procedure_code for a read of the city's own copies


async def view_copies(
    session: AsyncSession,
    runtime: Runtime,
    grants: RoleGrants,
    staff: StaffMember,
    address_number: str,
    item_codes: list[str],
) -> CopiesView:
    wanted = sorted(set(item_codes))
    facts = AccessFacts(
        staff_id=staff.staff_id,
        department=staff.department,
        address_number=address_number,
        procedure_code=VIEW_COPIES,
        item_codes=wanted,
        provider_code=runtime.identity.institution_code,
    )
    try:
        check_view_role(grants, staff, wanted)
        copies = await latest_copies(session, address_number, wanted)
    except DomainError as error:
        await log_staff_access(runtime.database, facts, f"refused:{error.code}")
        raise
    await log_staff_access(runtime.database, facts, "read")
    items = [ViewedItem(item_code=c.item_code, period=c.period, value=c.value, as_of=c.as_of) for c in copies]
    held = {item.item_code for item in items}
    return CopiesView(
        address_number=address_number,
        items=sorted(items, key=lambda item: item.item_code),
        missing_items=[code for code in wanted if code not in held],
    )


def check_view_role(grants: RoleGrants, staff: StaffMember, item_codes: list[str]) -> None:
    unviewable = grants.unviewable_items(staff.department, item_codes)
    if unviewable:
        raise Forbidden(
            "item_not_permitted_for_role",
            f"{staff.department} may not view {', '.join(unviewable)} in this city's copies.",
        )
