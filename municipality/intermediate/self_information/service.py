"""JTK 自己情報提供: answer a resident's request for their own information, which My Portal sends
through the broker, from the copies, sealed to My Portal.

It is TKY's answer (`provisions/`) narrowed: the city checks for itself what the broker let
through, so that the procedure must be 自己情報提供, every item one its catalogue discloses to the
person themself (the item's `procedures` in items.yaml name 自己情報提供), and the requester My
Portal (an institution of kind portal). A broker fault or a wrong whitelist cannot make this
function answer anyone else.

The answer, or the refusal, is in the city's own provision record (TKM) before it leaves. No staff
member reads anything, so the staff access log has no entry.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.copies.catalogue import ItemCatalogue
from municipality.intermediate.provisions.schemas import SealedAnswer
from municipality.intermediate.provisions.service import Answering, answer_provision
from municipality.intermediate.self_information.schemas import SelfInformationRequest
from services.app import Runtime

SELF_INFORMATION = "self_information.provision"  # the whitelist's procedure code for 自己情報提供
JTK = Answering(requester_kind="portal", procedure=SELF_INFORMATION)


async def answer_self_information(
    session: AsyncSession, runtime: Runtime, catalogue: ItemCatalogue, request: SelfInformationRequest
) -> SealedAnswer:
    return await answer_provision(session, runtime, catalogue, request, JTK)
