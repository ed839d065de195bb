"""HTTP: the whitelist in force and its history are public; operators load new versions."""

import json
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import ValidationError

from broker.whitelist.dependencies import WhitelistInForce
from broker.whitelist.schemas import WhitelistUpload, WhitelistVersionOut
from broker.whitelist.service import WhitelistVersions, list_whitelist_versions, store_whitelist_version
from services.app import DbSession, Operator
from services.problems import BadRequest

router = APIRouter(tags=["whitelist"])


@router.get("/whitelist")
async def get_whitelist(whitelist: WhitelistInForce) -> dict[str, Any]:
    return {
        "version": whitelist.version,
        "items": whitelist.items,
        "procedures": whitelist.procedures,
        "rows": [row.published() for row in whitelist.rows],
    }


@router.get("/whitelist/versions", response_model=list[WhitelistVersionOut])
async def get_whitelist_versions(session: DbSession) -> list[WhitelistVersionOut]:
    return await list_whitelist_versions(session)


@router.post("/whitelist/versions", response_model=WhitelistVersionOut, status_code=status.HTTP_201_CREATED)
async def post_whitelist_version(request: Request, _operator: Operator, session: DbSession) -> WhitelistVersionOut:
    """Load a new whitelist: JSON `{"yaml": "...", "loaded_by": "..."}` or the YAML itself as the body."""
    upload = await _upload(request)
    stored = await store_whitelist_version(session, upload.yaml, upload.loaded_by)
    # Committed here although DbSession commits before the response too: the process-wide copy set
    # below is read as it is by /provision-records/search, so it must never hold a version whose
    # commit could still fail.
    await session.commit()
    versions: WhitelistVersions = request.app.state.whitelist_versions
    request.app.state.whitelist = await versions.in_force(session)
    return stored


async def _upload(request: Request) -> WhitelistUpload:
    body = await request.body()
    try:
        if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
            return WhitelistUpload.model_validate(json.loads(body))
        return WhitelistUpload(yaml=body.decode("utf-8"))
    except (ValueError, ValidationError) as exc:
        raise BadRequest("whitelist_invalid", f"Send the whitelist as YAML or as JSON {{'yaml': ...}}: {exc}") from exc
