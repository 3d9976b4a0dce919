"""Registering a CIMD document through a clients registry: what the Auth0 backend reads of
register's answer, the tenant setting it checks, and the registered client held to the
document the plan reviewed (Auth0 fetches its own copy at apply time)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import RegistryError
from reconciler.pipeline.planning import registry_cimd_support
from reconciler.registries.auth0.registry import ManagementApi, TokenSource, open_auth0
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe
from tests.helpers import desired, memory_registry

URL = "https://assistant.partner.example/oauth/client.json"
REVIEWED: dict[str, Any] = {
    "client_id": URL,
    "client_name": "Partner Assistant",
    "redirect_uris": ["https://assistant.partner.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "none",
}
LIVE = {**REVIEWED, "redirect_uris": ["https://evil.example/callback"]}
CIMD_SUPPORTED = "client_id_metadata_document_supported"
BASE = "https://tenant.example.auth0.com"


def mocked(answers: dict[tuple[str, str], httpx.Response]) -> ClientsRegistry:
    """The Auth0 backend over a transport that answers ``(method, path)`` as given."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t0k", "expires_in": 86400})
        return answers[(request.method, request.url.path)]

    client = httpx.Client(transport=httpx.MockTransport(handle))
    tokens = TokenSource(client, BASE, client_id="mgmt", client_secret="s")
    return ClientsRegistry(ManagementApi(client, BASE, tokens), "auth0://tenant.example.auth0.com")


def test_the_backend_reads_the_register_answer_a_live_tenant_gave() -> None:
    # go-auth0's recording TestClient_CIMDFields: 201 with client_id, client_secret and
    # signing_keys only (no mapped_fields, no validation); the client is read back.
    client = {
        "client_id": "tpc_rhQfCQohbSxytKPKF987fE",
        "name": "Partner Assistant",
        "app_type": "regular_web",
        "callbacks": REVIEWED["redirect_uris"],
        "grant_types": REVIEWED["grant_types"],
        "token_endpoint_auth_method": "none",
        "external_client_id": URL,
    }
    registry = mocked(
        {
            ("POST", "/api/v2/clients/cimd/register"): httpx.Response(
                201,
                json={
                    "client_id": client["client_id"],
                    "client_secret": "[REDACTED]",
                    "signing_keys": [{"cert": "[REDACTED]"}],
                },
            ),
            ("GET", f"/api/v2/clients/{client['client_id']}"): httpx.Response(200, json=client),
        }
    )
    app = registry.register_cimd(URL, REVIEWED, None)
    assert (app.client_id, app.external_client_id) == (client["client_id"], URL)


def test_a_register_answer_without_a_client_id_is_a_clear_error() -> None:
    registry = mocked(
        {("POST", "/api/v2/clients/cimd/register"): httpx.Response(201, json={"errors": []})}
    )
    with pytest.raises(RegistryError, match="answered no client_id"):
        registry.register_cimd(URL, REVIEWED, None)


@pytest.mark.parametrize(
    ("answer", "supported", "said"),
    [
        (httpx.Response(200, json={CIMD_SUPPORTED: True}), True, ""),
        (httpx.Response(200, json={"flags": {}}), False, "Settings > Advanced"),
        (
            httpx.Response(403, json={"message": "Insufficient scope"}),
            None,
            "read:tenant_settings",
        ),
    ],
)
def test_cimd_support_is_the_tenant_setting(
    answer: httpx.Response, supported: bool | None, said: str
) -> None:
    support = mocked({("GET", "/api/v2/tenants/settings"): answer}).cimd_support()
    assert support.supported is supported
    assert said in support.reason


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TlsServe, ClientsRegistry]]:
    """serve with CIMD allowed, and the Auth0 backend pointed at it."""
    with TlsServe(tmp_path / "served.db") as server:
        with server.http() as http:
            seed = {"tenant_settings": {CIMD_SUPPORTED: True}}
            http.post(f"{server.base_url}/__control/seed", json=seed).raise_for_status()
        registry = open_auth0(
            "auth0://tenant.test",
            base_url=server.base_url,
            environ={
                "AUTH0_CLIENT_ID": server.client_id,
                "AUTH0_CLIENT_SECRET": server.client_secret,
            },
            verify=ssl.create_default_context(cafile=server.ca_file),
            lock=False,
        )
        yield server, registry
        registry.close()


def publish(server: TlsServe, document: dict[str, Any]) -> None:
    with server.http() as http:
        http.post(f"{server.base_url}/__control/documents", json={URL: document}).raise_for_status()


def test_a_client_made_from_another_document_than_the_reviewed_one_is_deleted(
    served: tuple[TlsServe, ClientsRegistry],
) -> None:
    server, registry = served
    publish(server, LIVE)
    with pytest.raises(RegistryError) as failed:
        registry.register_cimd(URL, REVIEWED, None)
    assert "differs from the reviewed one in callbacks" in str(failed.value)
    assert "deleted again" in str(failed.value)
    assert server.tenant.find_by_external_client_id(URL) is None


def test_a_register_resent_after_its_answer_was_lost_still_deletes_what_it_made(
    served: tuple[TlsServe, ClientsRegistry],
) -> None:
    # The first register made the client and its answer was lost (a 503 after the
    # write); sent again, Auth0 answers 200, a refresh: the client is still this run's.
    server, registry = served
    publish(server, LIVE)
    server.inject(
        status=503, after=True, method="POST", path_prefix="/api/v2/clients/cimd/register"
    )
    with pytest.raises(RegistryError) as failed:
        registry.register_cimd(URL, REVIEWED, None)
    assert "deleted again" in str(failed.value)
    assert server.tenant.find_by_external_client_id(URL) is None


def test_a_refresh_from_another_document_fails_saying_what_the_client_now_holds(
    served: tuple[TlsServe, ClientsRegistry],
) -> None:
    server, registry = served
    publish(server, REVIEWED)
    before = registry.register_cimd(URL, REVIEWED, None)
    publish(server, {**LIVE, "client_name": "Partner Assistant 2"})
    with pytest.raises(RegistryError) as failed:
        registry.register_cimd(URL, REVIEWED, before)
    assert "in name, callbacks" in str(failed.value)
    assert "plan --locked" in str(failed.value)
    held = server.tenant.find_by_external_client_id(URL)
    assert held is not None and held["client_id"] == before.client_id


def test_the_embedded_registry_registers_the_reviewed_document_itself() -> None:
    _, registry = memory_registry()
    assert (
        registry.register_cimd(URL, REVIEWED, None).record["callbacks"]
        == (REVIEWED["redirect_uris"])
    )


def test_a_plan_stops_new_cimd_apps_where_the_tenant_does_not_register_them() -> None:
    tenant = Tenant(":memory:")
    tenant.update_tenant_settings({CIMD_SUPPORTED: True})
    registry = ClientsRegistry(tenant, "sqlite::memory:")
    existing = registry.register_cimd(URL, REVIEWED, None)
    tenant.update_tenant_settings({CIMD_SUPPORTED: False})
    other = "https://other.partner.example/oauth/client.json"
    apps = [desired("partner", cimd=URL), desired("other", cimd=other), desired("web", type="spa")]

    found = registry_cimd_support(registry, apps, [existing])

    assert [(d.severity.value, d.rule) for d in found] == [
        ("warning", "cimd-unsupported"),
        ("error", "cimd-unsupported"),
    ]
    assert "a refresh from its document would be refused" in found[0].message
    assert "the app cannot be registered" in found[1].message
    assert registry_cimd_support(registry, apps[2:], []) == []
