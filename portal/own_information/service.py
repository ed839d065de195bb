"""自己情報提供 (JTK): a resident sees the copies a city holds about them.

The portal asks the broker, as any requester asks, by its own symbol for the resident: the
procedure 自己情報提供 and the items the whitelist in force lets the portal ask a city for. The
broker translates the symbol, forwards the query to the city and records the provision (it shows
in the resident's provision records); the city answers from its copies, sealed to the portal, so
only the portal opens the answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nacl.exceptions import CryptoError

from portal.own_information.schemas import NamedItem, OwnInformationOut, OwnItem
from services.app import Runtime, ServiceIdentity
from services.problems import Forbidden, UpstreamError
from services.sealing import open_sealed_json
from services.whitelist import WhitelistRow

SELF_INFORMATION = "self_information.provision"  # the whitelist's procedure code for 自己情報提供


def disclosable_items(whitelist: dict[str, Any], portal: ServiceIdentity, city_code: str, today: date) -> list[str]:
    """The items the rows in force let this portal ask this city for under 自己情報提供."""
    requester, provider = (portal.institution_code, portal.institution_kind), (city_code, "municipality")
    items: set[str] = set()
    for published in whitelist["rows"]:
        row = WhitelistRow.from_published(published)
        if row.covers(requester, SELF_INFORMATION, provider, frozenset(), today):
            items.update(row.items)
    return sorted(items)


async def my_own_information(runtime: Runtime, symbol: str, institution_code: str) -> OwnInformationOut:
    broker = runtime.settings.broker_url
    whitelist = await runtime.client.call("GET", f"{broker}/whitelist", upstream="broker")
    item_codes = disclosable_items(whitelist, runtime.identity, institution_code, date.today())
    if not item_codes:
        raise Forbidden("not_on_whitelist", "No whitelist row in force lets My Portal show a city's information.")
    answer = await runtime.client.call(
        "POST",
        f"{broker}/queries",
        {
            "requester_symbol": symbol,
            "procedure_code": SELF_INFORMATION,
            "provider_code": institution_code,
            "item_codes": item_codes,
        },
        upstream="broker",
    )
    try:
        payload = open_sealed_json(answer["ciphertext"], runtime.keys)
    except CryptoError as exc:
        raise UpstreamError("answer_unreadable", "The city's answer is not sealed to My Portal.", status=502) from exc
    if payload.get("query_id") != answer["query_id"]:
        raise UpstreamError("answer_mismatch", "The sealed answer belongs to another query.", status=502)
    names: dict[str, str] = whitelist["items"]
    return OwnInformationOut(
        query_id=answer["query_id"],
        institution_code=institution_code,
        items=[OwnItem(**item, name=names.get(item["item_code"], item["item_code"])) for item in payload["items"]],
        missing_items=[NamedItem(code=code, name=names.get(code, code)) for code in payload["missing_items"]],
    )
