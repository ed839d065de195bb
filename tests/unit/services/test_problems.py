"""Every refusal is RFC 9457 problem+json with a stable `code`, including schema errors.

Exercised through J-LIS's acquisition-number endpoint, whose individual numbers are checked by
the schema (resident codes in a number batch are instead reported one by one, see
tests/unit/jlis/test_number_lifecycle.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import InProcessNetwork
from tests.unit.jlis.network import JLIS, KODAIRA, problem_code


@pytest.mark.parametrize(
    "individual_numbers",
    [
        ["１２３４５６７８９０１２"],
        ["12345678901"],
        ["1234567890123"],
        ["123456789012\n"],
        ["123456789012", "12345678901a"],
        [123456789012],
        [],
    ],
    ids=[
        "full-width-digits",
        "ten-digits",
        "twelve-digits",
        "trailing-newline",
        "one-bad-of-two",
        "json-number",
        "empty",
    ],
)
async def test_individual_numbers_not_matching_the_schema_are_refused_as_invalid_request(
    network: InProcessNetwork, individual_numbers: list[Any]
) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post("/acquisition-numbers", json={"individual_numbers": individual_numbers})
    assert response.status_code == 422
    assert problem_code(response) == "invalid_request"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/acquisition-numbers"
    assert problem["errors"], "a schema error names what was wrong"
    assert all(error["location"][:2] == ["body", "individual_numbers"] for error in problem["errors"])


async def test_schema_error_points_at_the_offending_item(network: InProcessNetwork) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post(
            "/acquisition-numbers", json={"individual_numbers": ["123456789012", "12345678901"]}
        )
    [error] = response.json()["errors"]
    assert error["location"] == ["body", "individual_numbers", 1]
    assert error["type"] == "string_pattern_mismatch"


async def test_unknown_path_is_problem_json_not_found(network: InProcessNetwork) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.get("/no-such-thing")
    assert response.status_code == 404
    assert problem_code(response) == "not_found"


async def test_wrong_method_is_problem_json_method_not_allowed(network: InProcessNetwork) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.get("/individual-numbers")
    assert response.status_code == 405
    assert problem_code(response) == "method_not_allowed"


async def test_schema_error_does_not_echo_the_submitted_number(network: InProcessNetwork) -> None:
    # Problems end up in logs and upstream errors; a number must not travel with them.
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post(
            "/acquisition-numbers", json={"individual_numbers": ["12345678901", "98765432109x"]}
        )
    assert response.status_code == 422
    assert "12345678901" not in response.text
    assert "98765432109x" not in response.text
