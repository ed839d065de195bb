"""HTTP: a staff member runs the bulk export their approval allows (Bearer staff session token)."""

from fastapi import APIRouter, Request, Response

from municipality.intermediate.exports.schemas import ExportIn, ExportOut
from municipality.intermediate.exports.service import as_csv, export_copies
from municipality.intermediate.staff.router import CurrentStaff
from services.app import RuntimeDep

router = APIRouter(tags=["SCM exports"])


@router.post("/exports", response_model=ExportOut)
async def post_export(
    body: ExportIn, staff: CurrentStaff, runtime: RuntimeDep, request: Request
) -> ExportOut | Response:
    """The copies an approved `bulk_export` names, as JSON or CSV; the approval is used up."""
    export = await export_copies(runtime, request.app.state.role_grants, staff, body.approval_id)
    if body.format == "csv":
        return Response(as_csv(export), media_type="text/csv; charset=utf-8")
    return export
