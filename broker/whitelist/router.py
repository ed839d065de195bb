"""HTTP: the whitelist in force is public."""

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["whitelist"])


@router.get("/whitelist")
async def get_whitelist(request: Request) -> dict[str, Any]:
    whitelist = request.app.state.whitelist
    return {
        "version": whitelist.version,
        "items": whitelist.items,
        "procedures": whitelist.procedures,
        "rows": [
            {
                "id": row.row_id,
                "procedure": row.procedure,
                "requesters": sorted(row.requesters),
                "providers": sorted(row.providers),
                "items": sorted(row.items),
                "legal_basis": row.legal_basis,
                "valid_from": row.valid_from.isoformat(),
                "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            }
            for row in whitelist.rows
        ],
    }
