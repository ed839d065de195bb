"""Relaying a query (情報照会): check the whitelist, translate the symbol, forward, record.

A single query and a batch (one procedure, provider and item list for many persons) go through
the same relay: a single query is a batch of one, forwarded to the provider's `/provisions`; a
batch goes to its `/provisions/batch` in one call. Each person gets their own query id and
provision record. What concerns the whole query (an unknown provider, no whitelist row, no
server at the provider, the provider down or slow) refuses or fails every person of it and is
raised; what concerns one person (an unknown or revoked symbol, no symbol at the provider, the
provider holding no such person) refuses or fails that person only, and a batch goes on.

Each refusal and failure is recorded before it is raised or reported (rule 4). Answers pass
through sealed to the requester; they are neither stored nor logged (rule 3).

Who asks decides which function of the provider answers: an intermediate server's query goes to
its TKY (`/provisions`), My Portal's query for a resident's own information to its JTK
(`/self-information`, single queries only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.service import QueryFacts, record_provisions
from broker.queries.schemas import BatchQueryAnswer, BatchQueryIn, PersonResult, QueryAnswer, QueryIn
from broker.registry.models import Component, Institution
from broker.symbols.service import Translation, translate_symbols
from broker.whitelist.service import Whitelist
from services.app import Runtime
from services.problems import DomainError, Forbidden, NotFound, UpstreamError
from services.rbac import Caller


@dataclass(frozen=True)
class Ask:
    """What a query asks, the same for every person of a batch."""

    procedure_code: str
    provider_code: str
    item_codes: list[str]  # sorted, each once


@dataclass
class Person:
    """One person of a query, and how their part ended (`outcome` stays "pending" until then)."""

    requester_symbol: str
    facts: QueryFacts
    outcome: Literal["pending", "provided", "refused", "failed"] = "pending"
    ciphertext: str | None = None
    error: DomainError | None = None


@dataclass(frozen=True)
class Relayed:
    whitelist_row: str
    persons: list[Person]  # in request order


async def relay_query(
    session: AsyncSession, runtime: Runtime, whitelist: Whitelist, caller: Caller, query: QueryIn
) -> QueryAnswer:
    ask = Ask(query.procedure_code, query.provider_code, sorted(set(query.item_codes)))
    relayed = await relay(session, runtime, whitelist, caller, ask, [query.requester_symbol], batch=False)
    [person] = relayed.persons
    if person.error is not None:
        raise person.error
    assert person.ciphertext is not None  # noqa: S101 - provided means the provider sent a ciphertext
    return QueryAnswer(
        query_id=person.facts.query_id,
        provider_code=ask.provider_code,
        whitelist_version=whitelist.version,
        whitelist_row=relayed.whitelist_row,
        ciphertext=person.ciphertext,
    )


async def relay_batch(
    session: AsyncSession, runtime: Runtime, whitelist: Whitelist, caller: Caller, query: BatchQueryIn
) -> BatchQueryAnswer:
    ask = Ask(query.procedure_code, query.provider_code, sorted(set(query.item_codes)))
    relayed = await relay(session, runtime, whitelist, caller, ask, query.requester_symbols, batch=True)
    return BatchQueryAnswer(
        provider_code=ask.provider_code,
        whitelist_version=whitelist.version,
        whitelist_row=relayed.whitelist_row,
        results=[
            PersonResult(
                requester_symbol=person.requester_symbol,
                query_id=person.facts.query_id,
                outcome=_concluded(person),
                ciphertext=person.ciphertext,
                problem=None if person.error is None else person.error.to_problem("/queries/batch"),
            )
            for person in relayed.persons
        ],
    )


def _concluded(person: Person) -> Literal["provided", "refused", "failed"]:
    if person.outcome == "pending":
        raise RuntimeError(f"query {person.facts.query_id} was neither provided, refused nor failed")
    return person.outcome


async def relay(
    session: AsyncSession,
    runtime: Runtime,
    whitelist: Whitelist,
    caller: Caller,
    ask: Ask,
    requester_symbols: Sequence[str],
    *,
    batch: bool,
) -> Relayed:
    """Relay `ask` for each person; raise what stops the whole query, after recording it for each."""
    base = QueryFacts(
        query_id="",
        requester_code=caller.institution_code,
        provider_code=ask.provider_code,
        procedure_code=ask.procedure_code,
        item_codes=ask.item_codes,
        whitelist_version=whitelist.version,
    )
    persons: list[Person] = []
    translations = await translate_symbols(session, caller.institution_code, requester_symbols, ask.provider_code)
    for symbol, translation in zip(requester_symbols, translations, strict=True):
        # Attach the person (when known) before any refusal, so they see off-list attempts too.
        facts = replace(
            base,
            query_id=uuid.uuid4().hex,
            person_serial=translation.person_serial,
            provider_symbol=translation.provider_symbol,
        )
        persons.append(Person(symbol, facts))

    provider = await session.get(Institution, ask.provider_code)
    if provider is None:
        raise await _refuse_all(
            runtime, persons, NotFound("unknown_provider", f"No institution {ask.provider_code} is registered.")
        )
    row = whitelist.row_for(
        requester_code=caller.institution_code,
        requester_kind=caller.institution_kind,
        procedure=ask.procedure_code,
        provider_code=provider.code,
        provider_kind=provider.kind,
        items=ask.item_codes,
        on=date.today(),
    )
    if row is None:
        raise await _refuse_all(
            runtime,
            persons,
            Forbidden(
                "not_on_whitelist",
                f"No whitelist row (version {whitelist.version}) lets {caller.institution_code} ask "
                f"{provider.code} for {', '.join(ask.item_codes)} under {ask.procedure_code}.",
            ),
        )
    ready: list[Person] = []
    refused: list[Conclusion] = []
    for person, translation in zip(persons, translations, strict=True):
        person.facts = replace(person.facts, whitelist_row=row.row_id)
        refusal = _person_refusal(translation, provider.code)
        if refusal is None:
            ready.append(person)
        else:
            refused.append((person, "refused", None, refusal))
    await _conclude(runtime, refused)
    if ready:
        endpoint = await session.get(Component, f"{provider.code}.intermediate")
        if endpoint is None:
            raise await _refuse_all(
                runtime, ready, NotFound("provider_has_no_server", f"{provider.code} has no intermediate server.")
            )
        await _forward(runtime, caller, provider, endpoint, ask, ready, batch=batch)
    return Relayed(row.row_id, persons)


def _person_refusal(translation: Translation, provider_code: str) -> DomainError | None:
    """Why this person's query may not go on, if it may not."""
    if translation.person_serial is None:
        return NotFound("unknown_symbol", "The requester's symbol is not known to the network.")
    if translation.refusal is not None:
        return translation.refusal
    if translation.provider_symbol is None:
        return NotFound("no_symbol_at_provider", f"{provider_code} holds no data on this person.")
    return None


async def _forward(
    runtime: Runtime,
    caller: Caller,
    provider: Institution,
    endpoint: Component,
    ask: Ask,
    ready: list[Person],
    *,
    batch: bool,
) -> None:
    """One call to the provider's intermediate server for all `ready` persons, then one record each.

    A failed call fails every one of them, and is raised."""
    common = {
        "requester_code": caller.institution_code,
        # the key the requester signed with: its encryption key is the one to seal to,
        # also while the requester rotates keys
        "requester_key_id": caller.key_id,
        "procedure_code": ask.procedure_code,
        "item_codes": ask.item_codes,
        # the row and version this relay recorded (the same for every person): the provider
        # keeps them in its own provision record
        "whitelist_row": ready[0].facts.whitelist_row,
        "whitelist_version": ready[0].facts.whitelist_version,
    }
    forwarded = [{"query_id": p.facts.query_id, "provider_symbol": p.facts.provider_symbol} for p in ready]
    try:
        if batch:
            answer = await runtime.client.call(
                "POST",
                f"{endpoint.base_url}/provisions/batch",
                {**common, "persons": forwarded},
                upstream=provider.name,
            )
            answers: list[dict[str, Any]] = _answers_in_order(answer, forwarded, provider.name)
        else:
            [only] = forwarded
            path = "/self-information" if caller.component == "portal" else "/provisions"
            answers = [
                await runtime.client.call(
                    "POST", f"{endpoint.base_url}{path}", {**common, **only}, upstream=provider.name
                )
            ]
    except UpstreamError as error:
        await _conclude(runtime, [(person, "failed", None, error) for person in ready])
        raise
    concluded: list[Conclusion] = []
    for person, provided in zip(ready, answers, strict=True):
        ciphertext = provided.get("ciphertext")
        if isinstance(ciphertext, str):
            concluded.append((person, "provided", ciphertext, None))
            continue
        problem = provided.get("problem")
        problem = problem if isinstance(problem, dict) else {}
        status = problem.get("status")
        refusal = UpstreamError(
            str(problem.get("code") or "upstream_error"),
            str(problem.get("detail") or f"{provider.name} could not answer for this person."),
            # a refusal (4xx) passes through as it is; anything else is our bad gateway
            status=status if isinstance(status, int) and 400 <= status < 500 else 502,
            upstream=provider.name,
        )
        concluded.append((person, "failed", None, refusal))
    await _conclude(runtime, concluded)


def _answers_in_order(answer: Any, forwarded: list[dict[str, Any]], provider_name: str) -> list[dict[str, Any]]:
    """The provider's per-person answers, checked to be one per forwarded person, in order."""
    answers = answer.get("answers") if isinstance(answer, dict) else None
    if (
        not isinstance(answers, list)
        or not all(isinstance(a, dict) for a in answers)
        or [a.get("query_id") for a in answers] != [f["query_id"] for f in forwarded]
    ):
        raise UpstreamError(
            "bad_provider_answer", f"{provider_name} did not answer each forwarded person once, in order.", status=502
        )
    return answers


Conclusion = tuple[Person, Literal["provided", "refused", "failed"], str | None, DomainError | None]


async def _conclude(runtime: Runtime, conclusions: Sequence[Conclusion]) -> None:
    """Record how each person's part ended (one transaction for all), then keep it for the answer."""
    await record_provisions(
        runtime.database,
        [
            (person.facts, outcome, "provided" if error is None else error.code)
            for person, outcome, _, error in conclusions
        ],
    )
    for person, outcome, ciphertext, error in conclusions:
        person.outcome, person.ciphertext, person.error = outcome, ciphertext, error


async def _refuse_all(runtime: Runtime, persons: list[Person], error: DomainError) -> DomainError:
    await _conclude(runtime, [(person, "refused", None, error) for person in persons])
    return error
