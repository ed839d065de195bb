"""The whitelist in force for this request, as a FastAPI dependency."""

from typing import Annotated

from fastapi import Depends, Request

from broker.whitelist.service import Whitelist, WhitelistVersions
from services.app import DbSession


async def whitelist_in_force(request: Request, session: DbSession) -> Whitelist:
    versions: WhitelistVersions = request.app.state.whitelist_versions
    whitelist = await versions.in_force(session) or request.app.state.whitelist
    # Keep the process-wide copy current too: resident-facing names are read from it.
    request.app.state.whitelist = whitelist
    return whitelist


WhitelistInForce = Annotated[Whitelist, Depends(whitelist_in_force)]
