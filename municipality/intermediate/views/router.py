"""HTTP: staff read the city's own copies of a person (Bearer staff session token)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from municipality.intermediate.copies.schemas import ItemCode
from municipality.intermediate.staff.router import CurrentStaff
from municipality.intermediate.symbols.schemas import AddressNumber
from municipality.intermediate.views.schemas import CopiesView
from municipality.intermediate.views.service import view_copies
from services.app import DbSession, RuntimeDep

router = APIRouter(tags=["SCM views"])


@router.get("/views/copies", response_model=CopiesView)
async def get_copies_view(
    address_number: Annotated[AddressNumber, Query()],
    item_codes: Annotated[list[ItemCode], Query(min_length=1, max_length=50)],
    staff: CurrentStaff,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
) -> CopiesView:
    """The latest copy of each item, e.g. `?address_number=…&item_codes=tax.taxable_income&item_codes=…`;
    refused whole (403 `item_not_permitted_for_role`) if any item is outside the department's role."""
    return await view_copies(session, runtime, request.app.state.role_grants, staff, address_number, item_codes)
