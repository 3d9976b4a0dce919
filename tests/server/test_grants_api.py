"""``reconciler serve``'s client grants, connections and client-credentials tokens for the
tenant's APIs, over real HTTP; each test names its source."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.server import Server
from reconciler.tenant.engine import Tenant

MANAGEMENT_ID = "grants-management-client"
MANAGEMENT_SECRET = "grants-management-secret-0123456789"
LEDGER = "https://ledger.example.com/"
WORKER = {
    "client_id": "ledger-worker",
    "client_secret": "ledger-worker-secret-0123456789",
    "name": "Ledger worker",
    "app_type": "non_interactive",
    "grant_types": ["client_credentials"],
}
SEED = {
    "resource_servers": [
        {
            "identifier": LEDGER,
            "name": "Ledger",
            "token_lifetime": 3600,
            "scopes": [{"value": "read:entries"}, {"value": "write:entries"}],
        }
    ],
    "clients": [WORKER, {"client_id": "portal", "name": "Portal", "app_type": "spa"}],
    "client_grants": [
        {"client_id": "ledger-worker", "audience": LEDGER, "scope": ["read:entries"]}
    ],
    "connections": [
        {"name": "Username-Password-Authentication", "strategy": "auth0"},
        {"name": "google-oauth2", "strategy": "google-oauth2", "enabled_clients": ["portal"]},
    ],
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    tenant = Tenant(":memory:", name="grants")
    with Server(tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET) as started:
        yield started
    tenant.close()


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.post("/__control/reset").status_code == 204
        assert client.post("/__control/seed", json=SEED).status_code == 201
        yield client


def _token(api: httpx.Client, **fields: str) -> httpx.Response:
    body = {
        "grant_type": "client_credentials",
        "client_id": MANAGEMENT_ID,
        "client_secret": MANAGEMENT_SECRET,
        "audience": f"{str(api.base_url).rstrip('/')}/api/v2/",
        **fields,
    }
    return api.post("/oauth/token", data=body)


def _headers(api: httpx.Client, scope: str | None = None) -> dict[str, str]:
    answer = _token(api, **({"scope": scope} if scope else {}))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _worker_token(api: httpx.Client, **fields: str) -> httpx.Response:
    worker = {
        "client_id": WORKER["client_id"],
        "client_secret": WORKER["client_secret"],
        "audience": LEDGER,
    }
    return _token(api, **{**worker, **fields})


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


# -- /api/v2/client-grants -------------------------------------------------------------------


def test_grants_are_created_listed_patched_and_deleted(api: httpx.Client) -> None:
    # go-auth0 test/data/recordings/TestClientGrantManager_Create.yaml: POST 201, DELETE 204;
    # auth0-python management/client_grants/raw_client.py: GET answers {client_grants, next}.
    headers = _headers(api)
    created = api.post(
        "/api/v2/client-grants",
        json={"client_id": "portal", "audience": LEDGER, "scope": ["read:entries"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    grant_id = created.json()["id"]
    listed = api.get("/api/v2/client-grants", params={"take": "50"}, headers=headers).json()
    assert [g["client_id"] for g in listed["client_grants"]] == ["ledger-worker", "portal"]
    assert "next" not in listed
    patched = api.patch(
        f"/api/v2/client-grants/{grant_id}",
        json={"scope": ["read:entries", "write:entries"]},
        headers=headers,
    )
    assert patched.status_code == 200 and patched.json()["scope"] == [
        "read:entries",
        "write:entries",
    ]
    immutable = api.patch(
        f"/api/v2/client-grants/{grant_id}", json={"audience": LEDGER}, headers=headers
    )
    assert immutable.status_code == 400 and immutable.json()["errorCode"] == "invalid_body"
    again = api.post(
        "/api/v2/client-grants",
        json={"client_id": "portal", "audience": LEDGER, "scope": []},
        headers=headers,
    )
    assert again.status_code == 409
    assert api.delete(f"/api/v2/client-grants/{grant_id}", headers=headers).status_code == 204
    assert api.get(f"/api/v2/client-grants/{grant_id}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v2/client-grants", "read:client_grants"),
        ("POST", "/api/v2/client-grants", "create:client_grants"),
        ("PATCH", "/api/v2/client-grants/cgr_x", "update:client_grants"),
        ("DELETE", "/api/v2/client-grants/cgr_x", "delete:client_grants"),
        ("GET", "/api/v2/connections", "read:connections"),
        ("GET", "/api/v2/connections/con_x/clients", "read:connections"),
        ("PATCH", "/api/v2/connections/con_x/clients", "update:connections"),
    ],
)
def test_each_route_needs_its_management_scope(
    api: httpx.Client, method: str, path: str, scope: str
) -> None:
    # Auth0's reference pages (get-client-grants, post-client-grants, patch-client-grants-by-id,
    # delete-client-grants-by-id, get-connections, get-connection-clients, patch-clients).
    answer = api.request(method, path, headers=_headers(api, "read:clients"), json={})
    assert answer.status_code == 403
    assert answer.json()["message"] == f"Insufficient scope, expected any of: {scope}"


# -- /api/v2/connections ---------------------------------------------------------------------


def test_connection_clients_are_read_and_patched(api: httpx.Client) -> None:
    # auth0-python management/connections/clients/client.py: GET answers {clients, next},
    # PATCH takes [{client_id, status}] and answers nothing (204).
    headers = _headers(api)
    listed = api.get("/api/v2/connections", params={"take": "10"}, headers=headers).json()
    by_name = {c["name"]: c["id"] for c in listed["connections"]}
    database = by_name["Username-Password-Authentication"]
    patched = api.patch(
        f"/api/v2/connections/{database}/clients",
        json=[
            {"client_id": "portal", "status": True},
            {"client_id": "ledger-worker", "status": True},
        ],
        headers=headers,
    )
    assert patched.status_code == 204
    enabled = api.get(f"/api/v2/connections/{database}/clients", headers=headers).json()
    assert enabled == {"clients": [{"client_id": "portal"}, {"client_id": "ledger-worker"}]}
    assert api.delete("/api/v2/clients/portal", headers=headers).status_code == 204
    google = api.get(f"/api/v2/connections/{by_name['google-oauth2']}/clients", headers=headers)
    assert google.json() == {"clients": []}


# -- /oauth/token for the tenant's APIs ------------------------------------------------------


def test_a_granted_client_gets_exactly_its_scopes(api: httpx.Client) -> None:
    # Auth0 docs application-access-to-apis-client-grants.mdx: the token carries the scopes
    # of the client grant for (client, audience); the API's token_lifetime applies.
    answer = _worker_token(api)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "read:entries" and body["expires_in"] == 3600
    claims = _claims(body["access_token"])
    assert claims["aud"] == LEDGER and claims["sub"] == "ledger-worker@clients"
    narrowed = _worker_token(api, scope="read:entries")
    assert narrowed.json()["scope"] == "read:entries"


def test_a_scope_not_granted_is_refused_as_auth0_refuses_it(api: httpx.Client) -> None:
    # Auth0's answer as quoted in logs of real tenants (e.g. a deploy log of
    # sandrino-dev.auth0.com): 403 {"error":"access_denied","error_description":
    # "Client has not been granted scopes: listen:events"}.
    answer = _worker_token(api, scope="read:entries write:entries")
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "access_denied",
        "error_description": "Client has not been granted scopes: write:entries",
    }


def test_no_grant_no_token(api: httpx.Client) -> None:
    # Auth0's answer relayed verbatim by a proxy in front of a tenant: 403 access_denied
    # 'Client is not authorized to access "<audience>". You need to create a
    # "client-grant" associated to this API. See: https://auth0.com/docs/api/management/
    # v2/client-grants/post-client-grants'.
    headers = _headers(api)
    api.post(
        "/api/v2/resource-servers",
        json={"identifier": "https://other.example.com/"},
        headers=headers,
    )
    answer = _worker_token(api, audience="https://other.example.com/")
    assert answer.status_code == 403
    body = answer.json()
    assert body["error"] == "access_denied"
    assert body["error_description"].startswith(
        'Client is not authorized to access "https://other.example.com/".'
    )
    management = _worker_token(api, audience=f"{str(api.base_url).rstrip('/')}/api/v2/")
    assert management.status_code == 403 and management.json()["error"] == "access_denied"
    unknown = _worker_token(api, audience="https://nowhere.example.com/")
    assert unknown.json()["error_description"] == (
        "Service not enabled within domain: https://nowhere.example.com/"
    )


def test_a_wrong_secret_or_a_client_without_the_grant_type(api: httpx.Client) -> None:
    # 401 access_denied "Unauthorized" as for the management client; a client without
    # client_credentials: 403 unauthorized_client "Grant type 'client_credentials' not
    # allowed for the client." with error_uri (an Auth0 answer quoted in a public issue).
    wrong = _worker_token(api, client_secret="not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "access_denied"
    headers = _headers(api)
    api.patch("/api/v2/clients/ledger-worker", json={"grant_types": ["implicit"]}, headers=headers)
    refused = _worker_token(api)
    assert refused.status_code == 403
    assert refused.json()["error"] == "unauthorized_client"
    assert refused.json()["error_description"] == (
        "Grant type 'client_credentials' not allowed for the client."
    )


def test_a_tenant_api_token_is_no_management_token(api: httpx.Client) -> None:
    token = _worker_token(api).json()["access_token"]
    answer = api.get("/api/v2/clients", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_a_bad_seed_names_the_object_at_fault(api: httpx.Client) -> None:
    answer = api.post(
        "/__control/seed",
        json={
            "client_grants": [{"client_id": "portal", "audience": "https://nowhere/", "scope": []}]
        },
    )
    assert answer.status_code == 404
    assert answer.json()["message"].startswith("client_grants[0]: ")
