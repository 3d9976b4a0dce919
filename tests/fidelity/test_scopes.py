"""Fidelity rows: the Management API scopes (``auth0-fidelity.md`` sections 1, 4, 6 and 8).

The embedded tenant has no tokens, so these rows hold ``reconciler serve``; the backend's
own table of what each of its operations needs (``registries/auth0/scopes.py``) is held
to the same routes, so the backend, serve and the README cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.registries.auth0.scopes import REQUIRED, route_scope
from reconciler.registries.base import Operation
from reconciler.server.auth import MANAGEMENT_SCOPES
from tests.auth0_sdk import TlsServe

LEDGER = "https://ledger.example.com/"
PEM = (Path(__file__).parents[2] / "examples" / "keys" / "ledger-2026.pem").read_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServe]:
    with TlsServe(tmp_path_factory.mktemp("scopes") / "tenant.db") as running:
        with running.http() as http:
            http.post(
                f"{running.base_url}/__control/seed",
                json={
                    "resource_servers": [{"identifier": LEDGER, "scopes": [{"value": "read"}]}],
                    "clients": [
                        {
                            "client_id": "keyed0000000000000000000000000aa",
                            "name": "Keyed",
                            "app_type": "non_interactive",
                            "jwt_configuration": {"alg": "RS256"},
                            "client_authentication_methods": {
                                "private_key_jwt": {
                                    "credentials": [
                                        {"credential_type": "public_key", "name": "k", "pem": PEM}
                                    ]
                                }
                            },
                        }
                    ],
                },
            ).raise_for_status()
        yield running


KEYED = "keyed0000000000000000000000000aa"


def call(served: TlsServe, scope: str, method: str, path: str, body: Any = None) -> httpx.Response:
    """``method path`` with a token granted only ``scope`` (space-separated)."""
    with served.http() as http:
        return http.request(
            method,
            f"{served.base_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {served.token(scope)}"},
        )


# Each route the backend calls, and the scope Auth0's reference page for it names
# (docs main/docs/api/management/v2/{clients,client-grants,connections,resource-servers}/*.mdx;
# go-auth0 reference.md, the same API definition). With the scope the route answers
# something else than 403 (a 404 for an id that does not exist is fine); without it, 403.
ROUTES = [
    ("POST", "/api/v2/clients", {"name": "New"}, "create:clients"),
    ("PATCH", f"/api/v2/clients/{KEYED}", {"description": "d"}, "update:clients"),
    ("DELETE", "/api/v2/clients/nobody", None, "delete:clients"),
    ("POST", f"/api/v2/clients/{KEYED}/rotate-secret", None, "update:client_keys"),
    ("GET", f"/api/v2/clients/{KEYED}/credentials", None, "read:client_credentials"),
    ("POST", "/api/v2/clients/nobody/credentials", {}, "create:client_credentials"),
    ("PATCH", "/api/v2/clients/nobody/credentials/cred", {}, "update:client_credentials"),
    ("DELETE", "/api/v2/clients/nobody/credentials/cred", None, "delete:client_credentials"),
    ("GET", "/api/v2/tenants/settings", None, "read:tenant_settings"),
    (
        "POST",
        "/api/v2/clients/cimd/preview",
        {"external_client_id": "https://app.example.com/client.json"},
        "read:clients",
    ),
    ("GET", "/api/v2/client-grants", None, "read:client_grants"),
    ("POST", "/api/v2/client-grants", {}, "create:client_grants"),
    ("PATCH", "/api/v2/client-grants/cgr_x", {"scope": []}, "update:client_grants"),
    ("DELETE", "/api/v2/client-grants/cgr_x", None, "delete:client_grants"),
    ("GET", "/api/v2/connections", None, "read:connections"),
    ("GET", "/api/v2/connections/con_x/clients", None, "read:connections"),
    ("PATCH", "/api/v2/connections/con_x/clients", [], "update:connections"),
    ("GET", "/api/v2/resource-servers", None, "read:resource_servers"),
    ("POST", "/api/v2/resource-servers", {}, "create:resource_servers"),
    ("PATCH", "/api/v2/resource-servers/rs_x", {}, "update:resource_servers"),
    ("DELETE", "/api/v2/resource-servers/rs_x", None, "delete:resource_servers"),
]


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES)
def test_each_route_needs_its_scope(
    served: TlsServe, method: str, path: str, body: Any, scope: str
) -> None:
    others = " ".join(s for s in MANAGEMENT_SCOPES if s != scope)
    refused = call(served, others, method, path, body)
    assert refused.status_code == 403, refused.text
    # Auth0's body for a missing scope (auth0-fidelity.md section 8, from the recordings).
    assert refused.json()["errorCode"] == "insufficient_scope"
    assert scope in refused.json()["message"]
    assert call(served, scope, method, path, body).status_code != 403
    # The backend's hint on such a 403 names the same scope.
    assert route_scope(method, path) == scope
    # And the backend's table of what its operations need knows the scope.
    assert scope in {s for groups in REQUIRED.values() for group in groups for s in group}


def test_listing_clients_takes_any_read_scope_and_shows_what_it_allows(served: TlsServe) -> None:
    # Source: go-auth0 reference.md Clients.List: client_id, app_type, name and description
    # "can be retrieved with any scope" of read:clients, read:client_keys,
    # read:client_credentials and read:client_summary; the rest needs read:clients or
    # read:client_keys. The backend needs read:clients (callbacks and every other field).
    refused = call(served, "create:clients", "GET", "/api/v2/clients")
    assert refused.status_code == 403 and "read:client_summary" in refused.json()["message"]
    summary = call(served, "read:client_summary", "GET", "/api/v2/clients").json()
    keyed = next(c for c in summary if c["client_id"] == KEYED)
    assert set(keyed) <= {"client_id", "app_type", "name", "description"}
    full = call(served, "read:clients", "GET", "/api/v2/clients").json()
    assert "jwt_configuration" in next(c for c in full if c["client_id"] == KEYED)
    assert route_scope("GET", "/api/v2/clients") == "read:clients"


def test_listing_credentials_needs_read_client_credentials_not_read_client_keys(
    served: TlsServe,
) -> None:
    # Source: docs clients/get-credentials.mdx (scope read:client_credentials only);
    # auth0-fidelity.md section 1 found serve also taking read:client_keys, as Auth0 does not.
    path = f"/api/v2/clients/{KEYED}/credentials"
    assert call(served, "read:client_keys", "GET", path).status_code == 403
    listed = call(served, "read:client_credentials", "GET", path)
    assert listed.status_code == 200 and [c["name"] for c in listed.json()] == ["k"]


@pytest.mark.parametrize(
    ("scope", "shown"),
    [
        ("read:clients", False),
        ("read:clients read:client_credentials", True),
        ("read:clients read:client_keys", True),
    ],
)
def test_client_authentication_methods_need_a_keys_or_credentials_scope(
    served: TlsServe, scope: str, shown: bool
) -> None:
    # Source: go-auth0 reference.md, Clients.List and Clients.Get: "The following
    # properties can only be retrieved with the read:client_keys or read:client_credentials
    # scope: encryption_key, ..., client_secret, client_authentication_methods and
    # signing_key". So a token with read:clients alone reads a private_key_jwt app without
    # its keys (auth0-fidelity.md section 1, the consequence [probe]).
    for path in ("/api/v2/clients", f"/api/v2/clients/{KEYED}"):
        answer = call(served, scope, "GET", path).json()
        client = (
            answer
            if isinstance(answer, dict)
            else next(c for c in answer if c["client_id"] == KEYED)
        )
        assert ("client_authentication_methods" in client) is shown, (path, client)


def test_the_secret_is_read_with_read_client_keys(served: TlsServe) -> None:
    # Source: go-auth0 reference.md Clients.Get (client_secret needs read:client_keys or
    # read:client_credentials). The sources agree on read:client_keys; serve shows the
    # secret to read:client_keys only, the stricter reading: reconciler reads secrets back
    # with read:client_keys and never counts on read:client_credentials for them.
    created = call(served, "create:clients", "POST", "/api/v2/clients", {"name": "Secret"}).json()
    path = f"/api/v2/clients/{created['client_id']}"
    assert "client_secret" not in call(served, "read:clients", "GET", path).json()
    shown = call(served, "read:clients read:client_keys", "GET", path).json()
    assert shown["client_secret"] == created["client_secret"]


def test_the_cimd_preview_needs_only_read_clients(served: TlsServe) -> None:
    # Source: docs clients/post-cimd-preview.mdx (read:clients); a read-only plan token
    # previews documents, where register needs create:clients (auth0-fidelity.md sections
    # 1 and 6; last month's notes had create:clients for the preview, corrected there).
    body = {"external_client_id": "https://app.example.com/client.json"}
    preview = call(served, "read:clients", "POST", "/api/v2/clients/cimd/preview", body)
    assert preview.status_code == 200, preview.text
    register = call(served, "read:clients", "POST", "/api/v2/clients/cimd/register", body)
    assert register.status_code == 403 and "create:clients" in register.json()["message"]


def test_inline_credentials_on_create_need_create_client_credentials(served: TlsServe) -> None:
    # Source: docs clients/post-clients.mdx: "To configure client_authentication_methods,
    # the create:client_credentials scope is required."
    body = {
        "name": "Keyed on create",
        "app_type": "non_interactive",
        "jwt_configuration": {"alg": "RS256"},
        "client_authentication_methods": {
            "private_key_jwt": {
                "credentials": [{"credential_type": "public_key", "name": "k", "pem": PEM}]
            }
        },
    }
    refused = call(served, "create:clients", "POST", "/api/v2/clients", body)
    assert refused.status_code == 403 and "create:client_credentials" in refused.text
    made = call(served, "create:clients create:client_credentials", "POST", "/api/v2/clients", body)
    assert made.status_code == 201, made.text


@pytest.mark.parametrize(
    ("member", "value", "scope"),
    [
        ("client_authentication_methods", None, "update:client_credentials"),
        ("client_secret", "a-new-secret-that-is-long-enough-0123456789", "update:client_keys"),
    ],
)
def test_patching_keys_needs_their_scope_beyond_update_clients(
    served: TlsServe, member: str, value: Any, scope: str
) -> None:
    # Source: docs clients/patch-clients.mdx (update:clients, plus update:client_keys for
    # client_secret and encryption_key, update:client_credentials for
    # client_authentication_methods); go-auth0 reference.md Clients.Update.
    created = call(served, "create:clients", "POST", "/api/v2/clients", {"name": "P"}).json()
    path = f"/api/v2/clients/{created['client_id']}"
    refused = call(served, "update:clients", "PATCH", path, {member: value})
    assert refused.status_code == 403 and scope in refused.json()["message"]
    assert (
        call(served, f"update:clients {scope}", "PATCH", path, {member: value}).status_code != 403
    )


def test_every_operation_of_the_backend_names_scopes_serve_grants() -> None:
    # The management client of serve can be granted every scope the backend may ask for.
    assert set(REQUIRED) == set(Operation)
    asked = {scope for groups in REQUIRED.values() for group in groups for scope in group}
    assert asked <= set(MANAGEMENT_SCOPES)
