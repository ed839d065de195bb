"""The city's side of a symbol reissue, over HTTP, as its staff would do it: a 情報政策課 member
asks for a `symbol_reissue_application`, the section chief (課長) approves, and the member sends
the application to the broker, whose administrators then declare the leak on it. Used by the
integration test and the reissue benchmark; docs/broker.md shows the same steps with curl."""

from __future__ import annotations

from typing import Any

import httpx

SYSTEM_DEPARTMENT = "情報政策課"


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url} → {response.status_code} {response.text}")
    return response.json()


def signed_in_staff(http: httpx.Client, intermediate_url: str, creator_token: str, staff_id: str, title: str) -> str:
    """A new 情報政策課 account made by `creator_token` (the operator, or a system administrator for
    any title but 課長), signed in with its generated password: its session token."""
    account = {"staff_id": staff_id, "department": SYSTEM_DEPARTMENT, "title": title}
    created = _ok(
        http.post(f"{intermediate_url}/staff", json=account, headers={"Authorization": f"Bearer {creator_token}"})
    )
    credentials = {"staff_id": staff_id, "password": created["initial_password"]}
    token: str = _ok(http.post(f"{intermediate_url}/staff/sessions", json=credentials))["token"]
    return token


def apply_for_symbol_reissue(
    http: httpx.Client, intermediate_url: str, applicant_token: str, chief_token: str, incident: str
) -> dict[str, Any]:
    """Ask, approve, send: the application as the city's intermediate server sent it."""
    request = {
        "action": "symbol_reissue_application",
        "details": {"incident": incident},
        "reason": "符号の漏えいのおそれ: 全件の再発行を申請する",
    }
    applicant, chief = ({"Authorization": f"Bearer {token}"} for token in (applicant_token, chief_token))
    approval_id = _ok(http.post(f"{intermediate_url}/approvals", json=request, headers=applicant))["approval_id"]
    _ok(http.post(f"{intermediate_url}/approvals/{approval_id}/decision", json={"decision": "approve"}, headers=chief))
    application: dict[str, Any] = _ok(
        http.post(
            f"{intermediate_url}/symbol-reissue-applications", json={"approval_id": approval_id}, headers=applicant
        )
    )
    return application
