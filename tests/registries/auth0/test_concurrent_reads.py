"""Reads whose windows go out together (``registries/auth0/paging.py``), over real HTTPS
against ``reconciler serve``: nothing that stayed is skipped while clients come and go,
a quiet read costs what the formula says, a 429 mid-read is waited out and retried, the
rate governor keeps a small bucket from a storm of 429s, and credentials go through the
same pool."""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.registries.auth0.paging import quiet_requests
from reconciler.registries.auth0.registry import (
    READ_PARALLELISM,
    ManagementApi,
    RetryPolicy,
    open_auth0,
)
from reconciler.registries.clients import READ_MEMBERS, ClientsRegistry
from tests.auth0_sdk import TlsServe

CLIENTS = 1_200
#: Clients of other teams, first in the list: the ones another writer deletes.
OTHERS = 40
CLIENTS_ROUTE = "/api/v2/clients"


def seed_clients(served: TlsServe, count: int, *, prefix: str) -> list[str]:
    ids = [f"{prefix}{n:05d}".ljust(32, "0") for n in range(count)]
    document = {"clients": [{"client_id": i, "name": f"{prefix} {n}"} for n, i in enumerate(ids)]}
    with served.http() as http:
        http.post(f"{served.base_url}/__control/seed", json=document).raise_for_status()
        http.delete(f"{served.base_url}/__control/requests").raise_for_status()
    return ids


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as tls:
        yield tls


def open_registry(
    served: TlsServe, *, senders: list[str] | None = None, **retry: float
) -> ClientsRegistry:
    """The backend against ``served``; ``senders`` gets the name of each request's thread."""

    def record_sender(request: httpx.Request) -> None:
        if senders is not None and request.url.path.startswith("/api/v2/"):
            senders.append(threading.current_thread().name)

    verify = ssl.create_default_context(cafile=served.ca_file)
    registry = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret},
        client=httpx.Client(verify=verify, event_hooks={"request": [record_sender]}),
        lock=False,
        retry=RetryPolicy(base_delay=0.02, max_delay=0.2, **retry),
    )
    assert isinstance(registry, ClientsRegistry)
    return registry


def management(registry: ClientsRegistry) -> ManagementApi:
    assert isinstance(registry.api, ManagementApi)
    return registry.api


def logged(served: TlsServe, path: str | None = CLIENTS_ROUTE) -> list[dict[str, Any]]:
    """Serve's log of the requests to ``path`` (None: every request)."""
    with served.http() as http:
        entries = http.get(f"{served.base_url}/__control/requests").json()["requests"]
    return [entry for entry in entries if path in (None, entry["path"])]


def test_a_quiet_read_costs_the_formula_and_goes_through_the_pool(served: TlsServe) -> None:
    seeded = seed_clients(served, CLIENTS, prefix="app")
    senders: list[str] = []
    registry = open_registry(served, senders=senders)
    try:
        apps = registry.list_apps()
    finally:
        registry.close()

    assert sorted(app.client_id for app in apps) == seeded
    pages = logged(served)
    assert len(pages) == quiet_requests(CLIENTS)
    assert all("include_fields=true" in page["query"] for page in pages)
    pool = Counter(name for name in senders if name.startswith("auth0-read"))
    assert sum(pool.values()) == quiet_requests(CLIENTS) - 1  # all but the first page
    assert 1 < len(pool) <= READ_PARALLELISM


@pytest.mark.parametrize(
    ("skip", "deleted", "registered"),
    [
        (0, 5, 0),  # after the first page, before the windows fetched together
        (0, 5, 5),  # the same with as many registrations: the total does not move
        (4, 3, 0),  # while the windows are in flight
        (6, 30, 30),  # more than any window's overlap, while they are in flight
        (2, 0, 150),  # registrations only: the list grows past the windows fetched
    ],
)
def test_clients_that_stayed_are_all_read_while_others_come_and_go(
    served: TlsServe, skip: int, deleted: int, registered: int
) -> None:
    others = seed_clients(served, OTHERS, prefix="other")
    stayed = seed_clients(served, CLIENTS - OTHERS, prefix="app")
    change: dict[str, Any] = {}
    if deleted:
        change["delete_clients"] = others[:deleted]
    if registered:
        change["seed"] = {"clients": [{"name": f"Newcomer {n}"} for n in range(registered)]}
    served.inject(method="GET", path_prefix=CLIENTS_ROUTE, skip=skip, after=True, meanwhile=change)
    registry = open_registry(served)
    try:
        read = [str(client["client_id"]) for client in management(registry).all_clients()]
    finally:
        registry.close()

    assert len(read) == len(set(read)), "a client was listed twice"
    assert set(read) >= set(stayed) | set(others[deleted:])
    if skip == 0 and deleted:
        # The second window overlaps the first by one client: every window fetched ahead
        # starts past what the first page read, and the read stepped back to read again.
        assert len(logged(served)) > quiet_requests(CLIENTS)


def test_a_429_mid_read_is_waited_out_and_the_window_asked_again(served: TlsServe) -> None:
    seeded = seed_clients(served, CLIENTS, prefix="app")
    served.inject(status=429, method="GET", path_prefix=CLIENTS_ROUTE, skip=3, retry_after=1)
    registry = open_registry(served)
    try:
        read = {str(client["client_id"]) for client in management(registry).all_clients()}
        read.discard(served.client_id)  # the management client, one of the tenant's apps
        limited = management(registry).rate_limited
    finally:
        registry.close()

    assert read == set(seeded)
    assert limited == 1
    pages = logged(served)
    assert sorted(page["status"] for page in pages)[-1] == 429
    assert len(pages) == quiet_requests(CLIENTS) + 1


def test_the_governor_keeps_the_pool_within_a_small_bucket(tmp_path: Path) -> None:
    # Auth0's enterprise non-production bucket: 10 at once, 2 a second.
    with TlsServe(tmp_path / "tenant.db", rate_limit="enterprise_non_production") as served:
        seeded = seed_clients(served, 1_500, prefix="app")
        registry = open_registry(served, max_rate_limit_wait=60)
        try:
            read = {str(client["client_id"]) for client in management(registry).all_clients()}
            read.discard(served.client_id)  # the management client, one of the tenant's apps
            api = management(registry)
            sent, limited = api.requests, api.rate_limited
        finally:
            registry.close()

    assert read == set(seeded)
    assert limited <= max(2, sent // 10), (limited, sent)


def test_the_credentials_of_keyed_apps_go_through_the_pool(served: TlsServe) -> None:
    keyed = seed_clients(served, 6, prefix="keyed")
    seed_clients(served, 20, prefix="plain")
    pem = public_pem()
    for client_id in keyed:
        held = served.tenant.create_credential(
            client_id, {"credential_type": "public_key", "name": "signer", "pem": pem}
        )
        served.tenant.patch_client(
            client_id,
            {
                "token_endpoint_auth_method": None,
                "jwt_configuration": {"alg": "RS256"},
                "client_authentication_methods": {
                    "private_key_jwt": {"credentials": [{"id": held["id"]}]}
                },
            },
        )
    senders: list[str] = []
    registry = open_registry(served, senders=senders)
    try:
        apps = {app.client_id: app for app in registry.list_apps()}
    finally:
        registry.close()

    assert all(len(apps[client_id].credentials) == 1 for client_id in keyed)
    asked = [
        entry["path"] for entry in logged(served, None) if entry["path"].endswith("/credentials")
    ]
    assert sorted(path.split("/")[4] for path in asked) == keyed
    assert sum(name.startswith("auth0-read") for name in senders) >= len(keyed)


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def test_a_read_asks_only_for_the_members_a_plan_reads(served: TlsServe) -> None:
    seed_clients(served, 3, prefix="app")
    registry = open_registry(served)
    try:
        clients = management(registry).all_clients(READ_MEMBERS)
    finally:
        registry.close()

    assert clients
    for client in clients:
        assert set(client) <= READ_MEMBERS | {"tenant"}
        assert "signing_keys" not in client and "client_secret" not in client
