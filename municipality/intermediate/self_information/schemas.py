"""The broker forwards My Portal's request for a resident's own information as it forwards any
query (情報照会); only the requester differs: My Portal's key, not an intermediate server's."""

from typing import Annotated

from pydantic import StringConstraints

from municipality.intermediate.provisions.schemas import ProvisionRequest

PortalKeyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}\.portal(\.v[0-9]+)?$")]


class SelfInformationRequest(ProvisionRequest):
    requester_key_id: PortalKeyId  # My Portal's key, not an intermediate server's
