"""Enrolling every running component at the broker's registry, as the network operator does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import httpx


def enrol_network(
    host_urls: Mapping[str, str], network_urls: Mapping[str, str], operator_token: str
) -> list[dict[str, Any]]:
    """Read each component's public keys from the URL this machine reaches (`host_urls`) and
    register it at the broker with the URL other services use to reach it (`network_urls`)."""
    institutions: dict[str, dict[str, Any]] = defaultdict(dict)
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        for name, url in host_urls.items():
            identity = client.get(f"{url}/.well-known/institution").raise_for_status().json()
            entry = institutions[identity["institution_code"]]
            entry.update(code=identity["institution_code"], name=identity["institution_name"])
            entry["kind"] = identity["institution_kind"]
            entry.setdefault("components", []).append(
                {
                    "component": identity["component"],
                    "base_url": network_urls[name],
                    "signing_public_key": identity["signing_public_key"],
                    "encryption_public_key": identity["encryption_public_key"],
                }
            )
        broker_url = host_urls["broker"]
        registered = []
        for entry in institutions.values():
            response = client.post(
                f"{broker_url}/registry/institutions",
                json=entry,
                headers={"Authorization": f"Bearer {operator_token}"},
            )
            registered.append(response.raise_for_status().json())
    return registered
