"""Enrolling every running component at the broker's registry, as the network operator does.

`enrol_network` is what the demo and the test networks use; `read_identity` and
`institution_entries` are shared with the administrator CLI (`python -m devnet.admin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx


def read_identity(client: httpx.Client, url: str) -> dict[str, Any]:
    """A running component's public identity and keys, from its `/.well-known/institution`."""
    identity: dict[str, Any] = client.get(f"{url.rstrip('/')}/.well-known/institution").raise_for_status().json()
    return identity


def component_entry(identity: Mapping[str, Any], base_url: str) -> dict[str, str]:
    """The registry's component entry for a published identity, reached by others at `base_url`."""
    return {
        "component": identity["component"],
        "base_url": base_url,
        "signing_public_key": identity["signing_public_key"],
        "encryption_public_key": identity["encryption_public_key"],
    }


def institution_entries(identities: Iterable[tuple[Mapping[str, Any], str]]) -> list[dict[str, Any]]:
    """Registry entries (`POST /registry/institutions` bodies), one per institution, from each
    component's identity and the base URL other services reach it at."""
    institutions: dict[str, dict[str, Any]] = {}
    for identity, base_url in identities:
        entry = institutions.setdefault(identity["institution_code"], {"components": []})
        entry.update(
            code=identity["institution_code"], name=identity["institution_name"], kind=identity["institution_kind"]
        )
        entry["components"].append(component_entry(identity, base_url))
    return [{key: entry[key] for key in ("code", "name", "kind", "components")} for entry in institutions.values()]


def enrol_network(
    host_urls: Mapping[str, str], network_urls: Mapping[str, str], operator_token: str
) -> list[dict[str, Any]]:
    """Read each component's public keys from the URL this machine reaches (`host_urls`) and
    register it at the broker with the URL other services use to reach it (`network_urls`)."""
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        identities = [(read_identity(client, url), network_urls[name]) for name, url in host_urls.items()]
        broker_url = host_urls["broker"]
        registered = []
        for entry in institution_entries(identities):
            response = client.post(
                f"{broker_url}/registry/institutions",
                json=entry,
                headers={"Authorization": f"Bearer {operator_token}"},
            )
            registered.append(response.raise_for_status().json())
    return registered
