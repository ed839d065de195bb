"""SCM bulk export (一括抽出): the copies an approval names, items × people, read once.

The approval is consumed in a transaction of its own before anything is read, so two uses of
one approval cannot both read (the second gets 409 `approval_consumed`), and the access-log
entries, appended in a transaction of their own, never wait on the request's write lock. An export
refused for its role leaves the approval unused. Each person read is one access-log entry
(`copies.export`), as a view of one person is, all appended at once, with the approval and its
reason as the purpose (rule 5: who, when, what, why).
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from municipality.intermediate.access_log.service import AccessFacts, log_staff_accesses
from municipality.intermediate.approvals.schemas import BulkExportDetails
from municipality.intermediate.approvals.service import consume_approval
from municipality.intermediate.copies.models import Copy
from municipality.intermediate.exports.schemas import ExportOut, ExportRow
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.views.service import check_view_role
from services.app import Runtime
from services.problems import DomainError
from services.rbac import RoleGrants

EXPORT_COPIES = "copies.export"  # the access log's procedure_code for a person read in an export
CHUNK = 500  # address numbers per IN (…) read
CSV_COLUMNS = ("address_number", "item_code", "period", "value", "as_of")


async def export_copies(runtime: Runtime, grants: RoleGrants, staff: StaffMember, approval_id: int) -> ExportOut:
    async with runtime.database.sessions() as session:
        approval = await consume_approval(session, approval_id, "bulk_export", staff.staff_id)
        details = BulkExportDetails.model_validate(approval.details)
        items = sorted(set(details.item_codes))
        people = list(dict.fromkeys(details.address_numbers))
        purpose = f"approval {approval.id}: {approval.reason}"[:200]
        try:
            check_view_role(grants, staff, items)  # the role may have narrowed since the approval
        except DomainError as error:
            await session.rollback()  # the approval stays unused
            refused = f"refused:{error.code}"
            await log_staff_accesses(
                runtime.database, [(_facts(runtime, staff, a, items, purpose), refused) for a in people]
            )
            raise
        await session.commit()
    rows: list[ExportRow] = []
    async with runtime.database.sessions() as session:
        for start in range(0, len(people), CHUNK):
            chunk = people[start : start + CHUNK]
            copies = await session.scalars(
                select(Copy)
                .where(Copy.address_number.in_(chunk), Copy.item_code.in_(items))
                .order_by(Copy.address_number, Copy.item_code, Copy.period)
            )
            rows.extend(
                ExportRow(
                    address_number=c.address_number,
                    item_code=c.item_code,
                    period=c.period,
                    value=c.value,
                    as_of=c.as_of,
                )
                for c in copies
            )
    await log_staff_accesses(runtime.database, [(_facts(runtime, staff, a, items, purpose), "read") for a in people])
    return ExportOut(approval_id=approval_id, item_codes=items, people=len(people), rows=rows)


def _facts(runtime: Runtime, staff: StaffMember, address_number: str, items: list[str], purpose: str) -> AccessFacts:
    return AccessFacts(
        staff_id=staff.staff_id,
        department=staff.department,
        address_number=address_number,
        procedure_code=EXPORT_COPIES,
        item_codes=items,
        provider_code=runtime.identity.institution_code,
        purpose=purpose,
    )


def as_csv(export: ExportOut) -> str:
    """One line per copy; values as JSON scalars (`true`, `2627128`), text as it is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in export.rows:
        value = row.value if isinstance(row.value, str) else json.dumps(row.value)
        writer.writerow((row.address_number, row.item_code, row.period, value, row.as_of.isoformat()))
    return out.getvalue()
