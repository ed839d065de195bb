"""The authorization matrix (rule 6), generated from the data: every department of the role file
× every item (the city's copy catalogue and the whitelist's items) × every staff endpoint, each
cell asserting "allowed" exactly when the role data grants it.

- `POST /queries`, under every procedure of the whitelist, granted or not: allowed means the query
  left the city (the broker answered it or refused it for its own reasons, e.g. not on the
  whitelist); refused means 403 `item_not_permitted_for_role` from the city's own server.
- `GET /views/copies`: allowed means the item is answered (held or missing); refused means 403.
- `POST /staff`, `PUT /staff/{id}/password`, `POST /contractors` and
  `PUT /contractors/{id}/password`: allowed only where the role administers staff.

The expected side is read from the YAML directly, not through `services.rbac`, so a fault in the
code that reads the role data cannot hide itself. One network serves the whole module: a cell
costs one request. Staff of 小平市 view 小平市's copies of the mover and query 東村山市.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from municipality.intermediate.app import ROLES_FILE
from services.rbac import RoleGrants
from tests.support import fresh_database_url, in_process_network
from tests.unit.linkage_fixture import (
    BROKER,
    CITIES,
    HIGASHIMURAYAMA,
    JLIS,
    KODAIRA,
    OPERATOR,
    Linkage,
    Mover,
    _enrol_cities,
    _factories,
    bearer,
)

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the loop the module's network runs in

ROOT = Path(__file__).resolve().parents[3]
ROLES: dict[str, dict[str, Any]] = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))["roles"]
WHITELIST: dict[str, Any] = yaml.safe_load((ROOT / "broker/whitelist/whitelist.yaml").read_text(encoding="utf-8"))
CATALOGUE: dict[str, Any] = yaml.safe_load(
    (ROOT / "municipality/intermediate/copies/items.yaml").read_text(encoding="utf-8")
)["items"]

DEPARTMENTS = sorted(ROLES)
PROCEDURES = sorted(WHITELIST["procedures"])
ITEMS = sorted(set(CATALOGUE) | set(WHITELIST["items"]))
ADMIN_ENDPOINTS = [
    "POST /staff",
    "PUT /staff/{staff_id}/password",
    "POST /contractors",
    "PUT /contractors/{contractor_id}/password",
]

CITY, PROVIDER = KODAIRA, HIGASHIMURAYAMA
ROLE_REFUSAL = (403, "item_not_permitted_for_role")
RESET_TARGET = "matrix-target"  # whose password the administration cells reset (no session to end)
CONTRACTOR_RESET_TARGET = "matrix-contractor"  # the same for a contractor


def may_query(department: str, procedure: str, item: str) -> bool:
    return item in ((ROLES[department].get("query") or {}).get(procedure) or [])


def may_view(department: str, item: str) -> bool:
    return item in (ROLES[department].get("view") or [])


def administers_staff(department: str) -> bool:
    return ROLES[department].get("administers_staff") is True


# pytest escapes non-ASCII test ids (\u5b50\u80b2…), so the ids name departments in romaji.
ROMAJI = {"市民課": "shimin", "課税課": "kazei", "子育て支援課": "kosodate", "保険年金課": "hoken",
          "生活福祉課": "seikatsu-fukushi", "情報政策課": "joho-seisaku"}  # fmt: skip


def cells(*axes: list[str]) -> list[Any]:
    """Every combination, each with a readable id, e.g. `kosodate-nhi.premium_assessment-tax.income_levy`."""
    combinations: list[tuple[str, ...]] = [()]
    for axis in axes:
        combinations = [(*done, value) for done in combinations for value in axis]
    return [
        pytest.param(*combination, id="-".join(ROMAJI.get(value, value) for value in combination))
        for combination in combinations
    ]


@dataclass
class Matrix:
    linkage: Linkage
    mover: Mover
    tokens: dict[str, str]  # department → a signed-in member's session token, at 小平市


@pytest.fixture(scope="module")
def matrix_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A data dir and a fresh database per service for the module's one network."""
    directory = tmp_path_factory.mktemp("matrix")
    hosts = [JLIS, BROKER, *(host for city in CITIES for host in (city.city_host, city.intermediate_host))]
    with ExitStack() as stack:
        urls = {
            host: stack.enter_context(fresh_database_url(directory, host.removesuffix(".test").replace("-", "_")))
            for host in hosts
        }
        yield directory, urls


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(matrix_databases: tuple[Path, dict[str, str]]) -> AsyncIterator[Matrix]:
    directory, urls = matrix_databases
    async with in_process_network(_factories(directory, urls)) as network:
        await _enrol_cities(network)
        linkage = Linkage(network)
        mover = await linkage.move_resident()
        tokens = {
            department: await linkage.staff_token(CITY, f"matrix-{index:03d}", department)
            for index, department in enumerate(DEPARTMENTS)
        }
        response = await linkage.enrol_staff(CITY, RESET_TARGET, "市民課")
        assert response.status_code == 201, response.text
        async with linkage.network.client_for(CITY.intermediate_host) as client:
            contractor = {"contractor_id": CONTRACTOR_RESET_TARGET, "company": "株式会社まとりくす"}
            response = await client.post("/contractors", json=contractor, headers=OPERATOR)
        assert response.status_code == 201, response.text
        yield Matrix(linkage, mover, tokens)


@in_module_loop
@pytest.mark.parametrize(("department", "procedure", "item"), cells(DEPARTMENTS, PROCEDURES, ITEMS))
async def test_query_is_allowed_exactly_when_the_role_grants_the_item_under_the_procedure(
    matrix: Matrix, department: str, procedure: str, item: str
) -> None:
    response = await matrix.linkage.staff_query(
        CITY,
        matrix.tokens[department],
        matrix.mover.address_numbers[CITY.slug],
        procedure=procedure,
        provider=PROVIDER,
        items=[item],
    )

    body = response.json()
    if may_query(department, procedure, item):
        assert response.status_code == 200 or body.get("upstream") == "broker", response.text
    else:
        assert (response.status_code, body["code"]) == ROLE_REFUSAL, response.text
        assert "upstream" not in body  # refused in the city: nothing went to the broker


@in_module_loop
@pytest.mark.parametrize(("department", "item"), cells(DEPARTMENTS, ITEMS))
async def test_view_is_allowed_exactly_when_the_role_grants_the_item(
    matrix: Matrix, department: str, item: str
) -> None:
    async with matrix.linkage.network.client_for(CITY.intermediate_host) as client:
        response = await client.get(
            "/views/copies",
            params={"address_number": matrix.mover.address_numbers[CITY.slug], "item_codes": [item]},
            headers=bearer(matrix.tokens[department]),
        )

    if may_view(department, item):
        assert response.status_code == 200, response.text
        view = response.json()
        assert [i["item_code"] for i in view["items"]] + view["missing_items"] == [item]
    else:
        assert (response.status_code, response.json()["code"]) == ROLE_REFUSAL, response.text


@in_module_loop
@pytest.mark.parametrize(("department", "endpoint"), cells(DEPARTMENTS, ADMIN_ENDPOINTS))
async def test_staff_administration_is_allowed_exactly_where_the_role_administers_staff(
    matrix: Matrix, department: str, endpoint: str
) -> None:
    index = DEPARTMENTS.index(department)
    headers = bearer(matrix.tokens[department])
    async with matrix.linkage.network.client_for(CITY.intermediate_host) as client:
        if endpoint == "POST /staff":
            response = await matrix.linkage.enrol_staff(CITY, f"made-by-{index:03d}", "市民課", headers=headers)
        elif endpoint == "POST /contractors":
            contractor = {"contractor_id": f"made-by-{index:03d}", "company": "株式会社まとりくす"}
            response = await client.post("/contractors", json=contractor, headers=headers)
        elif endpoint == "PUT /staff/{staff_id}/password":
            response = await client.put(f"/staff/{RESET_TARGET}/password", json={}, headers=headers)
        else:
            response = await client.put(f"/contractors/{CONTRACTOR_RESET_TARGET}/password", json={}, headers=headers)
    allowed_status = 201 if endpoint.startswith("POST") else 200

    if administers_staff(department):
        assert response.status_code == allowed_status, response.text
    else:
        assert (response.status_code, response.json()["code"]) == (403, "staff_administration_not_permitted")


# The role data itself: the departments the city ships, and only names the network knows.


def test_roles_are_shipped_for_the_six_departments() -> None:
    assert set(ROLES) == {"市民課", "課税課", "子育て支援課", "保険年金課", "生活福祉課", "情報政策課"}
    assert [department for department in DEPARTMENTS if administers_staff(department)] == ["情報政策課"]


def test_role_data_names_only_whitelist_procedures_and_known_items() -> None:
    unknown = [
        f"{department}: {name}"
        for department, role in ROLES.items()
        for procedure, items in (role.get("query") or {}).items()
        for name in [procedure, *items]
        if name not in WHITELIST["procedures"] and name not in WHITELIST["items"]
    ] + [
        f"{department} view: {item}"
        for department, role in ROLES.items()
        for item in role.get("view") or []
        if item not in CATALOGUE  # a city views only copies it can hold
    ]
    assert unknown == []


def test_the_code_reads_the_role_data_as_the_matrix_does() -> None:
    grants = RoleGrants.from_yaml(ROLES_FILE)

    assert grants.roles() == frozenset(DEPARTMENTS)
    for department in DEPARTMENTS:
        assert grants.administers_staff(department) == administers_staff(department)
        assert grants.unviewable_items(department, ITEMS) == [i for i in ITEMS if not may_view(department, i)]
        for procedure in PROCEDURES:
            assert grants.ungranted_items(department, procedure, ITEMS) == [
                i for i in ITEMS if not may_query(department, procedure, i)
            ]


def test_a_misspelt_key_in_the_role_data_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text("roles:\n  課税課:\n    veiw: [tax.taxable_income]\n", encoding="utf-8")

    with pytest.raises(ValueError, match="veiw"):
        RoleGrants.from_yaml(roles)
