"""Relaying a query (情報照会): check the whitelist, translate the symbol, forward, record.

Each refusal is recorded before it is raised (rule 4). The answer passes through sealed to
the requester; it is neither stored nor logged (rule 3).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.service import QueryFacts, record_provision
from broker.queries.schemas import QueryAnswer, QueryIn
from broker.registry.models import Component, Institution
from broker.symbols.service import translate_symbol
from broker.whitelist.service import Whitelist
from services.app import Runtime
from services.problems import DomainError, Forbidden, NotFound, UpstreamError
from services.rbac import Caller


async def relay_query(
    session: AsyncSession, runtime: Runtime, whitelist: Whitelist, caller: Caller, query: QueryIn
) -> QueryAnswer:
    facts = QueryFacts(
        query_id=uuid.uuid4().hex,
        requester_code=caller.institution_code,
        provider_code=query.provider_code,
        procedure_code=query.procedure_code,
        item_codes=sorted(set(query.item_codes)),
        whitelist_version=whitelist.version,
    )

    async def refuse(error: DomainError, known: QueryFacts) -> DomainError:
        await record_provision(runtime.database, known, "refused", error.code)
        return error

    provider = await session.get(Institution, query.provider_code)
    if provider is None:
        raise await refuse(NotFound("unknown_provider", f"No institution {query.provider_code} is registered."), facts)
    translation = await translate_symbol(session, caller.institution_code, query.requester_symbol, provider.code)
    # Attach the person (when known) before any refusal, so they see off-list attempts too.
    facts = replace(facts, person_serial=translation.person_serial, provider_symbol=translation.provider_symbol)
    row = whitelist.row_for(
        requester_code=caller.institution_code,
        requester_kind=caller.institution_kind,
        procedure=query.procedure_code,
        provider_code=provider.code,
        provider_kind=provider.kind,
        items=facts.item_codes,
        on=date.today(),
    )
    if row is None:
        raise await refuse(
            Forbidden(
                "not_on_whitelist",
                f"No whitelist row (version {whitelist.version}) lets {caller.institution_code} ask "
                f"{provider.code} for {', '.join(facts.item_codes)} under {query.procedure_code}.",
            ),
            facts,
        )
    facts = replace(facts, whitelist_row=row.row_id)
    if translation.person_serial is None:
        raise await refuse(NotFound("unknown_symbol", "The requester's symbol is not known to the network."), facts)
    if translation.refusal is not None:
        raise await refuse(translation.refusal, facts)
    if translation.provider_symbol is None:
        raise await refuse(NotFound("no_symbol_at_provider", f"{provider.code} holds no data on this person."), facts)
    endpoint = await session.get(Component, f"{provider.code}.intermediate")
    if endpoint is None:
        raise await refuse(NotFound("provider_has_no_server", f"{provider.code} has no intermediate server."), facts)
    try:
        answer = await runtime.client.call(
            "POST",
            f"{endpoint.base_url}/provisions",
            {
                "query_id": facts.query_id,
                "requester_code": caller.institution_code,
                # the key the requester signed with: its encryption key is the one to seal to,
                # also while the requester rotates keys
                "requester_key_id": caller.key_id,
                "provider_symbol": translation.provider_symbol,
                "procedure_code": query.procedure_code,
                "item_codes": facts.item_codes,
            },
            upstream=provider.name,
        )
    except UpstreamError as error:
        await record_provision(runtime.database, facts, "failed", error.code)
        raise
    await record_provision(runtime.database, facts, "provided", "provided")
    return QueryAnswer(
        query_id=facts.query_id,
        provider_code=provider.code,
        whitelist_version=whitelist.version,
        whitelist_row=row.row_id,
        ciphertext=str(answer["ciphertext"]),
    )
