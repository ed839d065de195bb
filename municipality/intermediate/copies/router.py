"""HTTP: the city's systems push copies (signed by the city's own `city` component); the
operator reads batch records, the staleness view and a copy's history.

The history is asked for with POST so the address number travels in the body, never in a URL
that access logs keep.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.copies.catalogue import ItemCatalogue
from municipality.intermediate.copies.schemas import (
    CopyBatchOut,
    CopyHistoryOut,
    CopyHistoryRequest,
    FreshnessOut,
    ItemFreshness,
    PeriodHistoryOut,
    RegisterCopiesRequest,
    RegisterCopiesResponse,
    RevisionOut,
    decode_copy_batch,
)
from municipality.intermediate.copies.service import (
    copy_history,
    item_freshness,
    recent_batches,
    register_copies,
)
from services.app import DbSession, Operator, RuntimeDep, SignedCaller, settings_of
from services.db import utc_now
from services.problems import NotFound
from services.rbac import require_caller

router = APIRouter(tags=["DBM copies"])


class _CopyBatchRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_copy_batch(await self.body())
        return self._json


class CopyBatchRoute(APIRoute):
    """POST /copies decodes its body with `decode_copy_batch` instead of json.loads (FastAPI's
    custom-request pattern); everything else, from the signature check to the 422 for a body
    that does not fit RegisterCopiesRequest, is FastAPI's as for any route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_batch(request: Request) -> Response:
            return await handle(_CopyBatchRequest(request.scope, request.receive))

        return handle_batch


def catalogue_of(request: Request) -> ItemCatalogue:
    catalogue: ItemCatalogue = request.app.state.item_catalogue
    return catalogue


async def post_copies(
    body: RegisterCopiesRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> RegisterCopiesResponse:
    require_caller(
        caller, components={"city"}, institution_code=settings_of(runtime, IntermediateSettings).municipality_code
    )
    batch = await register_copies(
        session, catalogue_of(request), body.source, body.copies, expected_rows=body.expected_rows
    )
    return RegisterCopiesResponse(
        batch_id=batch.id,
        registered=batch.rows_received,
        inserted=batch.inserted,
        updated=batch.updated,
        unchanged=batch.unchanged,
        registered_at=batch.registered_at,
    )


router.add_api_route(
    "/copies",
    post_copies,
    methods=["POST"],
    response_model=RegisterCopiesResponse,
    route_class_override=CopyBatchRoute,
)


@router.get("/copies/batches", response_model=list[CopyBatchOut])
async def get_copy_batches(
    _operator: Operator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[CopyBatchOut]:
    return [
        CopyBatchOut(
            batch_id=b.id,
            source=b.source,
            item_codes=b.item_codes,
            rows=b.rows_received,
            inserted=b.inserted,
            updated=b.updated,
            unchanged=b.unchanged,
            registered_at=b.registered_at,
        )
        for b in await recent_batches(session, limit)
    ]


@router.get("/copies/freshness", response_model=FreshnessOut)
async def get_copy_freshness(_operator: Operator, session: DbSession, request: Request) -> FreshnessOut:
    catalogue, now = catalogue_of(request), utc_now()
    items = []
    for entry in await item_freshness(session, catalogue, now):
        item, refresh = catalogue.items[entry.item_code], entry.refresh
        items.append(
            ItemFreshness(
                item_code=item.code,
                name=item.name,
                source=item.source,
                schedule=item.schedule,
                last_registered_at=refresh.last_registered_at if refresh else None,
                last_batch_id=refresh.last_batch_id if refresh else None,
                rows=refresh.rows if refresh else None,
                latest_as_of=refresh.latest_as_of if refresh else None,
                due_by=entry.due_by,
                overdue=entry.overdue,
            )
        )
    return FreshnessOut(checked_at=now, overdue_items=[i.item_code for i in items if i.overdue], items=items)


@router.post("/copies/history", response_model=CopyHistoryOut)
async def post_copy_history(
    body: CopyHistoryRequest, _operator: Operator, session: DbSession, request: Request
) -> CopyHistoryOut:
    if body.item_code not in catalogue_of(request):
        raise NotFound("unknown_item", f"{body.item_code} is not in this city's item catalogue.")
    periods = [
        PeriodHistoryOut(
            period=h.current.period,
            value=h.current.value,
            as_of=h.current.as_of,
            registered_at=h.current.registered_at,
            batch_id=h.current.batch_id,
            revisions=[
                RevisionOut(
                    value=r.value,
                    as_of=r.as_of,
                    registered_at=r.registered_at,
                    batch_id=r.batch_id,
                    replaced_at=r.replaced_at,
                    replaced_by_batch_id=r.replaced_by_batch_id,
                )
                for r in h.revisions
            ],
        )
        for h in await copy_history(session, body.address_number, body.item_code)
    ]
    return CopyHistoryOut(address_number=body.address_number, item_code=body.item_code, periods=periods)
