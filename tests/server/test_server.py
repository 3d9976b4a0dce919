"""``reconciler serve`` over real HTTP: tokens, routes, errors, limits, faults, hooks."""

from __future__ import annotations

import base64
import http.client
import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.errors import CimdError
from reconciler.server import FixtureDocuments, Server, serve
from reconciler.server.auth import (
    EXPIRED_TOKEN,
    MANAGEMENT_SCOPES,
    ManagementAuth,
    UnauthorizedError,
)
from reconciler.server.messages import Request
from reconciler.server.ratelimit import PRESETS, BucketSpec, RateLimiter, parse_rate_limit
from reconciler.tenant.engine import Tenant
from tests.helpers import interruptible

MANAGEMENT_ID = "management-client"
MANAGEMENT_SECRET = "management-secret-0123456789"
CIMD_URL = "https://assistant.partner.example/oauth/client.json"
CIMD_DOCUMENT = {
    "client_id": CIMD_URL,
    "client_name": "Partner Assistant",
    "redirect_uris": ["https://assistant.partner.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "none",
}
MISSING_AUTHENTICATION = {
    "statusCode": 401,
    "error": "Unauthorized",
    "message": "Missing authentication",
}
INVALID_TOKEN = {
    "statusCode": 401,
    "error": "Unauthorized",
    "message": "Invalid token",
    "attributes": {"error": "Invalid token"},
}
ROUTE_NOT_FOUND = {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
CLIENT_NOT_FOUND = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "The client does not exist",
    "errorCode": "inexistent_client",
}
TOO_MANY_REQUESTS = {
    "statusCode": 429,
    "error": "Too Many Requests",
    "message": "Global limit has been reached",
    "errorCode": "too_many_requests",
}


# -- fixtures and helpers --------------------------------------------------------------------

CIMD_SUPPORTED = "client_id_metadata_document_supported"


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    opened = Tenant(":memory:", name="acme")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def server(tenant: Tenant) -> Iterator[Server]:
    with Server(
        tenant,
        client_id=MANAGEMENT_ID,
        client_secret=MANAGEMENT_SECRET,
        documents={CIMD_URL: CIMD_DOCUMENT},
    ) as started:
        yield started


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh_server(api: httpx.Client) -> None:
    assert api.post("/__control/reset").status_code == 204
    api.post("/__control/documents", json={CIMD_URL: CIMD_DOCUMENT})


@pytest.fixture(scope="module")
def token(api: httpx.Client) -> str:
    return issue_token(api)


@pytest.fixture(scope="module")
def headers(token: str) -> dict[str, str]:
    return bearer(token)


@pytest.fixture(scope="module")
def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def token_request(client: httpx.Client, **fields: str) -> httpx.Response:
    body = {
        "grant_type": "client_credentials",
        "client_id": MANAGEMENT_ID,
        "client_secret": MANAGEMENT_SECRET,
        "audience": f"{str(client.base_url).rstrip('/')}/api/v2/",
        **fields,
    }
    return client.post("/oauth/token", data=body)


def issue_token(client: httpx.Client, scope: str | None = None) -> str:
    response = token_request(client, **({"scope": scope} if scope else {}))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def create(api: httpx.Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.post(
        "/api/v2/clients", json={"name": "App", "app_type": "spa", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- /oauth/token ----------------------------------------------------------------------------


def test_a_token_carries_auth0_claims_and_every_management_scope(
    api: httpx.Client, server: Server
) -> None:
    before = time.time()
    response = token_request(api)
    after = time.time()

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"].split() == list(MANAGEMENT_SCOPES)
    token_claims = claims(body["access_token"])
    assert token_claims["aud"] == f"{server.base_url}/api/v2/"
    assert token_claims["sub"] == f"{MANAGEMENT_ID}@clients"
    assert token_claims["gty"] == "client-credentials"
    assert token_claims["scope"] == body["scope"]
    assert token_claims["exp"] - token_claims["iat"] == 86400
    assert int(before) <= token_claims["iat"] <= after


def test_a_token_request_may_be_json_and_may_authenticate_with_basic(
    api: httpx.Client, server: Server
) -> None:
    audience = f"{server.base_url}/api/v2/"
    as_json = api.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": MANAGEMENT_ID,
            "client_secret": MANAGEMENT_SECRET,
            "audience": audience,
        },
    )
    with_basic = api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": audience},
        auth=(MANAGEMENT_ID, MANAGEMENT_SECRET),
    )

    assert as_json.status_code == 200
    assert with_basic.status_code == 200


def test_a_token_may_be_narrowed_to_some_scopes(api: httpx.Client) -> None:
    response = token_request(api, scope="read:clients read:client_keys")

    assert response.json()["scope"] == "read:clients read:client_keys"
    assert claims(response.json()["access_token"])["scope"] == "read:clients read:client_keys"


@pytest.mark.parametrize(
    ("fields", "status", "error", "description"),
    [
        (
            {"audience": "https://elsewhere.example/api/v2/"},
            403,
            "access_denied",
            "Service not enabled within domain: https://elsewhere.example/api/v2/",
        ),
        (
            {"audience": ""},
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        ),
        ({"client_secret": "wrong"}, 401, "access_denied", "Unauthorized"),
        ({"client_id": "someone-else"}, 401, "access_denied", "Unauthorized"),
        (
            {"grant_type": "password"},
            400,
            "unsupported_grant_type",
            "Unsupported grant type: password",
        ),
        (
            {"scope": "read:clients read:users"},
            403,
            "access_denied",
            "Client has not been granted scopes: read:users",
        ),
    ],
)
def test_token_requests_are_refused_in_oauth_terms(
    api: httpx.Client, fields: dict[str, str], status: int, error: str, description: str
) -> None:
    response = token_request(api, **fields)

    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}


def test_a_token_is_refused_from_the_second_it_expires() -> None:
    now = 1_000.0
    auth = ManagementAuth(
        client_id=MANAGEMENT_ID,
        client_secret=MANAGEMENT_SECRET,
        token_lifetime=2,
        clock=lambda: now,
    )
    audience = "http://127.0.0.1:1/api/v2/"
    body = {
        "grant_type": "client_credentials",
        "client_id": MANAGEMENT_ID,
        "client_secret": MANAGEMENT_SECRET,
        "audience": audience,
    }
    headers = {"content-type": "application/json"}
    asked = Request("POST", "/oauth/token", "", headers, json.dumps(body).encode())
    token = auth.token(asked, {audience}).json()["access_token"]
    call = Request("GET", "/api/v2/clients", "", {"authorization": f"Bearer {token}"})

    now = 1_001.9
    assert auth.authenticate(call, {audience}).client_id == MANAGEMENT_ID
    now = 1_002.0
    with pytest.raises(UnauthorizedError) as refused:
        auth.authenticate(call, {audience})
    assert refused.value.message == EXPIRED_TOKEN


@pytest.mark.slow  # a real token's lifetime runs out (the rule itself: the test above)
def test_an_expired_token_is_refused(tenant: Tenant) -> None:
    with (
        Server(
            tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET, token_lifetime=2
        ) as short_lived,
        httpx.Client(base_url=short_lived.base_url) as client,
    ):
        # Tokens carry whole seconds: issued just after a second turns, this one lives ~2 s.
        time.sleep(1 - time.time() % 1)
        issued = token_request(client).json()
        assert issued["expires_in"] == 2
        fresh = client.get("/api/v2/clients", headers=bearer(issued["access_token"]))
        time.sleep(max(0.0, claims(issued["access_token"])["exp"] - time.time()) + 0.05)
        expired = client.get("/api/v2/clients", headers=bearer(issued["access_token"]))

    assert fresh.status_code == 200
    message = "Expired token received for JSON Web Token validation"
    assert expired.status_code == 401
    assert expired.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": message,
        "attributes": {"error": message},
    }


# -- authentication and authorization on /api/v2 ---------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Basic bWFuYWdlbWVudDpzZWNyZXQ=", "Token abc"])
def test_a_request_without_a_bearer_token_is_unauthenticated(
    api: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = api.get("/api/v2/clients", headers=headers)

    assert response.status_code == 401
    assert response.json() == MISSING_AUTHENTICATION


def test_a_forged_or_foreign_token_is_invalid(
    api: httpx.Client, token: str, tenant: Tenant
) -> None:
    header, payload, signature = token.split(".")
    escalated = dict(claims(token), sub="attacker@clients")
    forged_payload = base64.urlsafe_b64encode(json.dumps(escalated).encode()).rstrip(b"=").decode()
    with Server(tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET) as other:
        with httpx.Client(base_url=other.base_url) as other_api:
            foreign = issue_token(other_api)

    for bad in ("not-a-jwt", f"{header}.{forged_payload}.{signature}", foreign):
        response = api.get("/api/v2/clients", headers=bearer(bad))
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN


def test_a_missing_scope_is_forbidden_naming_the_scope(api: httpx.Client) -> None:
    read_only = bearer(issue_token(api, "read:clients"))

    response = api.post("/api/v2/clients", json={"name": "App"}, headers=read_only)
    deleted = api.delete("/api/v2/clients/anything", headers=read_only)

    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: create:clients",
        "errorCode": "insufficient_scope",
    }
    assert deleted.json()["message"] == "Insufficient scope, expected any of: delete:clients"


def test_patching_a_secret_needs_the_keys_scope(api: httpx.Client, headers: dict[str, str]) -> None:
    client_id = create(api, headers)["client_id"]
    update_only = bearer(issue_token(api, "update:clients"))

    response = api.patch(
        f"/api/v2/clients/{client_id}", json={"client_secret": "x" * 48}, headers=update_only
    )

    assert response.status_code == 403
    assert response.json()["errorCode"] == "insufficient_scope"
    assert "update:client_keys" in response.json()["message"]


def test_an_unknown_route_is_an_auth0_404_even_without_a_token(api: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/v2/users"),
        ("PUT", "/api/v2/clients"),
        ("GET", "/api/v2/clients/x/secrets"),
        ("GET", "/nowhere"),
    ]:
        response = api.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json() == ROUTE_NOT_FOUND


def test_malformed_json_is_an_invalid_body(api: httpx.Client, headers: dict[str, str]) -> None:
    response = api.post(
        "/api/v2/clients",
        content=b'{"name": ',
        headers={**headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Invalid request payload JSON format",
        "errorCode": "invalid_body",
    }


# -- clients ---------------------------------------------------------------------------------


def test_create_answers_201_with_server_defaults_and_get_reads_it_back(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    created = create(api, headers, name="Payments", callbacks=["https://pay.example/cb"])

    assert len(created["client_id"]) == 32
    assert len(created["client_secret"]) == 64
    assert created["is_first_party"] is True
    assert created["grant_types"] == [
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
    ]
    assert created["tenant"] == "acme"
    fetched = api.get(f"/api/v2/clients/{created['client_id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert fetched.headers["content-type"] == "application/json; charset=utf-8"


def test_create_refuses_an_invalid_body_with_auth0s_error(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    response = api.post("/api/v2/clients", json={"app_type": "spa"}, headers=headers)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_body"
    assert response.json()["message"].startswith("Payload validation error:")


def test_patch_merges_metadata_and_objects_and_replaces_arrays(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    created = create(
        api,
        headers,
        description="old",
        callbacks=["https://a.example/cb", "https://b.example/cb"],
        client_metadata={"team": "payments", "tier": "gold"},
    )
    path = f"/api/v2/clients/{created['client_id']}"

    response = api.patch(
        path,
        json={
            "callbacks": ["https://c.example/cb"],
            "client_metadata": {"tier": None, "owner": "ops"},
            "refresh_token": {"token_lifetime": 3600},
            "description": None,
        },
        headers=headers,
    )

    assert response.status_code == 200
    patched = response.json()
    assert patched["callbacks"] == ["https://c.example/cb"]
    assert patched["client_metadata"] == {"team": "payments", "owner": "ops"}
    assert patched["refresh_token"] == {**created["refresh_token"], "token_lifetime": 3600}
    assert "description" not in patched
    assert api.get(path, headers=headers).json() == patched


def test_patch_refuses_a_body_that_is_not_an_object(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    client_id = create(api, headers)["client_id"]

    response = api.patch(f"/api/v2/clients/{client_id}", json=["name"], headers=headers)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_body"


def test_patch_of_an_unknown_client_is_404(api: httpx.Client, headers: dict[str, str]) -> None:
    response = api.patch("/api/v2/clients/nope", json={"name": "x"}, headers=headers)

    assert response.status_code == 404
    assert response.json() == CLIENT_NOT_FOUND


def test_delete_answers_204_twice_and_the_client_is_gone(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    client_id = create(api, headers)["client_id"]

    first = api.delete(f"/api/v2/clients/{client_id}", headers=headers)
    second = api.delete(f"/api/v2/clients/{client_id}", headers=headers)
    fetched = api.get(f"/api/v2/clients/{client_id}", headers=headers)

    assert (first.status_code, first.content) == (204, b"")
    assert (second.status_code, second.content) == (204, b"")
    assert fetched.status_code == 404
    assert fetched.json() == CLIENT_NOT_FOUND


def test_rotate_secret_answers_the_new_secret(api: httpx.Client, headers: dict[str, str]) -> None:
    created = create(api, headers)
    path = f"/api/v2/clients/{created['client_id']}"

    rotated = api.post(f"{path}/rotate-secret", headers=headers)

    assert rotated.status_code == 200
    assert rotated.json()["client_secret"] != created["client_secret"]
    assert api.get(path, headers=headers).json()["client_secret"] == rotated.json()["client_secret"]
    missing = api.post("/api/v2/clients/nope/rotate-secret", headers=headers)
    assert missing.json() == CLIENT_NOT_FOUND


# -- what a read shows, by scope -------------------------------------------------------------


def test_secrets_are_shown_only_with_the_keys_scope(
    api: httpx.Client, headers: dict[str, str], public_pem: str
) -> None:
    created = create(
        api,
        headers,
        app_type="non_interactive",
        jwt_configuration={"alg": "RS256"},
        client_authentication_methods={
            "private_key_jwt": {
                "credentials": [{"credential_type": "public_key", "name": "k", "pem": public_pem}]
            }
        },
    )
    path = f"/api/v2/clients/{created['client_id']}"

    def read(scope: str) -> dict[str, Any]:
        one: dict[str, Any] = api.get(path, headers=bearer(issue_token(api, scope))).json()
        listed = api.get(
            "/api/v2/clients",
            params={"is_global": "false"},
            headers=bearer(issue_token(api, scope)),
        ).json()
        assert [c for c in listed if c["client_id"] != MANAGEMENT_ID] == [one]
        return one

    with_keys = read("read:client_keys")
    with_clients = read("read:clients")
    with_credentials = read("read:clients read:client_credentials")
    summary = read("read:client_summary")

    secrets = {"client_secret", "signing_keys", "client_authentication_methods"}
    assert secrets <= set(with_keys)
    assert not secrets & set(with_clients)
    assert "grant_types" in with_clients
    assert set(with_credentials) & secrets == {"client_authentication_methods"}
    assert set(summary) == {"client_id", "name", "app_type"}


def test_a_read_needs_some_read_scope(api: httpx.Client) -> None:
    response = api.get("/api/v2/clients", headers=bearer(issue_token(api, "create:clients")))

    assert response.status_code == 403
    assert response.json()["message"] == (
        "Insufficient scope, expected any of: read:clients, read:client_keys, "
        "read:client_credentials, read:client_summary"
    )


# -- listing and pagination ------------------------------------------------------------------


def test_pages_and_totals_through_http(api: httpx.Client, headers: dict[str, str]) -> None:
    # serve's own management client is the tenant's first application, as on Auth0.
    ids = [MANAGEMENT_ID] + [create(api, headers, name=f"App {n}")["client_id"] for n in range(6)]

    def page(number: int, **params: str) -> Any:
        query = {"is_global": "false", "per_page": "3", "page": str(number), **params}
        response = api.get("/api/v2/clients", params=query, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    pages = [page(n, include_totals="true") for n in range(4)]

    assert [p["total"] for p in pages] == [7, 7, 7, 7]
    assert [(p["start"], p["limit"]) for p in pages] == [(0, 3), (3, 3), (6, 3), (9, 3)]
    assert [c["client_id"] for p in pages for c in p["clients"]] == ids
    assert pages[3]["clients"] == []
    assert [c["client_id"] for c in page(1)] == ids[3:6]


def test_listing_defaults_to_50_and_includes_the_global_client(
    api: httpx.Client, headers: dict[str, str], tenant: Tenant
) -> None:
    for n in range(55):
        tenant.create_client({"name": f"App {n}"})

    everything = api.get("/api/v2/clients", headers=headers).json()
    totals = api.get("/api/v2/clients", params={"include_totals": "true"}, headers=headers).json()

    assert len(everything) == 50
    assert everything[0]["global"] is True
    # The management client is one of the tenant's applications, as on Auth0 (its
    # machine-to-machine app is listed by GET /clients and counts against the plan).
    assert everything[1]["client_id"] == MANAGEMENT_ID
    assert totals["total"] == 57


def test_filters_and_fields_through_http(api: httpx.Client, headers: dict[str, str]) -> None:
    spa = create(api, headers, app_type="spa")["client_id"]
    native = create(api, headers, app_type="native")["client_id"]
    create(api, headers, app_type="regular_web")

    response = api.get(
        "/api/v2/clients",
        params={"app_type": "spa,native", "fields": "client_id,app_type", "include_fields": "true"},
        headers=headers,
    )

    assert response.json() == [
        {"client_id": spa, "app_type": "spa", "tenant": "acme"},
        {"client_id": native, "app_type": "native", "tenant": "acme"},
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "per_page=101",
            "Query validation error: 'Value 101 is greater than maximum 100' on property per_page",
        ),
        ("page=-1", "Query validation error: 'Value -1 is less than minimum 0' on property page"),
        (
            "include_totals=yes",
            "Query validation error: 'Expected type boolean but found type string' on property "
            "include_totals",
        ),
        (
            "page=1&page=2",
            "Query validation error: 'Expected type integer but found type array' on property page",
        ),
        ("sort=name", "Query validation error: 'Additional properties not allowed: sort'."),
        (
            "q=client_grant.allow_any_organization:true",
            "Query validation error: 'q is not supported",
        ),
    ],
)
def test_a_bad_query_string_is_refused(
    api: httpx.Client, headers: dict[str, str], query: str, message: str
) -> None:
    response = api.get(f"/api/v2/clients?{query}", headers=headers)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_query_string"
    assert response.json()["message"].startswith(message)


# -- credentials -----------------------------------------------------------------------------


def test_credentials_routes(api: httpx.Client, headers: dict[str, str], public_pem: str) -> None:
    client_id = create(api, headers, app_type="non_interactive")["client_id"]
    base = f"/api/v2/clients/{client_id}/credentials"

    assert api.get(base, headers=headers).json() == []
    created = api.post(
        base,
        json={"credential_type": "public_key", "name": "ledger", "pem": public_pem},
        headers=headers,
    )
    assert created.status_code == 201
    credential = created.json()
    assert credential["id"].startswith("cred_")
    assert "pem" not in credential
    # The list answers a missing expiry as null (go-auth0 recording TestClient_ListCredentials).
    assert api.get(base, headers=headers).json() == [{**credential, "expires_at": None}]
    assert api.get(f"{base}/{credential['id']}", headers=headers).json() == credential

    patched = api.patch(
        f"{base}/{credential['id']}", json={"expires_at": "2030-01-01T00:00:00Z"}, headers=headers
    )
    assert patched.status_code == 200
    assert patched.json()["expires_at"] == "2030-01-01T00:00:00.000Z"
    renamed = api.patch(f"{base}/{credential['id']}", json={"name": "x"}, headers=headers)
    assert renamed.status_code == 400
    assert renamed.json()["errorCode"] == "invalid_body"

    for _ in range(2):
        deleted = api.delete(f"{base}/{credential['id']}", headers=headers)
        assert (deleted.status_code, deleted.content) == (204, b"")
    assert api.get(base, headers=headers).json() == []
    assert api.get("/api/v2/clients/nope/credentials", headers=headers).json() == CLIENT_NOT_FOUND


def test_credentials_need_their_own_scopes(api: httpx.Client, headers: dict[str, str]) -> None:
    client_id = create(api, headers)["client_id"]
    clients_only = bearer(issue_token(api, "read:clients create:clients"))

    listed = api.get(f"/api/v2/clients/{client_id}/credentials", headers=clients_only)
    created = api.post(f"/api/v2/clients/{client_id}/credentials", json={}, headers=clients_only)

    assert listed.status_code == 403
    assert created.json()["message"] == (
        "Insufficient scope, expected any of: create:client_credentials"
    )


# -- CIMD ------------------------------------------------------------------------------------


def test_preview_maps_a_document_without_registering_it(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    response = api.post(
        "/api/v2/clients/cimd/preview", json={"external_client_id": CIMD_URL}, headers=headers
    )

    assert response.status_code == 200
    body = response.json()
    assert "client_id" not in body
    assert body["validation"] == {"valid": True, "violations": [], "warnings": []}
    assert body["mapped_fields"]["name"] == "Partner Assistant"
    assert body["mapped_fields"]["callbacks"] == ["https://assistant.partner.example/callback"]
    listed = api.get("/api/v2/clients", params={"external_client_id": CIMD_URL}, headers=headers)
    assert listed.json() == []


def test_preview_reports_a_failed_fetch_as_errors_with_200(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    url = "https://unknown.example/client.json"

    response = api.post(
        "/api/v2/clients/cimd/preview", json={"external_client_id": url}, headers=headers
    )

    assert response.status_code == 200
    assert set(response.json()) == {"errors"}
    assert url in response.json()["errors"][0]


def test_register_creates_then_refreshes_the_client_for_a_url(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    body = {"external_client_id": CIMD_URL}
    api.post("/__control/seed", json={"tenant_settings": {CIMD_SUPPORTED: True}})

    created = api.post("/api/v2/clients/cimd/register", json=body, headers=headers)
    api.post(
        "/__control/documents",
        json={CIMD_URL: {**CIMD_DOCUMENT, "client_name": "Partner Assistant 2"}},
    )
    refreshed = api.post("/api/v2/clients/cimd/register", json=body, headers=headers)

    assert created.status_code == 201
    client_id = created.json()["client_id"]
    assert {"client_id", "client_secret", "signing_keys"} <= set(created.json())
    assert created.json()["validation"]["valid"] is True
    assert created.headers["location"] == f"/api/v2/clients/{client_id}"
    assert refreshed.status_code == 200
    assert refreshed.json()["client_id"] == client_id
    client = api.get(f"/api/v2/clients/{client_id}", headers=headers).json()
    assert client["name"] == "Partner Assistant 2"
    assert client["external_metadata_type"] == "cimd"
    assert client["is_first_party"] is False
    preview = api.post("/api/v2/clients/cimd/preview", json=body, headers=headers).json()
    assert preview["client_id"] == client_id


def test_register_is_refused_until_the_tenant_setting_is_on(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    body = {"external_client_id": CIMD_URL}

    refused = api.post("/api/v2/clients/cimd/register", json=body, headers=headers)
    settings = api.get("/api/v2/tenants/settings", headers=headers)

    assert refused.status_code == 403
    assert CIMD_SUPPORTED in refused.json()["message"]
    assert settings.json() == {CIMD_SUPPORTED: False}
    listed = api.get("/api/v2/clients", params={"external_client_id": CIMD_URL}, headers=headers)
    assert listed.json() == []


def test_an_invalid_document_is_previewed_as_invalid_and_never_registered(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    url = "https://bad.example/client.json"
    api.post("/__control/documents", json={url: {"client_id": "https://other.example/c.json"}})
    body = {"external_client_id": url}

    preview = api.post("/api/v2/clients/cimd/preview", json=body, headers=headers)
    register = api.post("/api/v2/clients/cimd/register", json=body, headers=headers)

    assert preview.status_code == 200
    assert preview.json()["validation"]["valid"] is False
    assert any("client_id" in v for v in preview.json()["validation"]["violations"])
    assert register.status_code == 400
    assert register.json()["errorCode"] == "invalid_client_metadata"
    listed = api.get("/api/v2/clients", params={"external_client_id": url}, headers=headers)
    assert listed.json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"external_client_id": "http://a.example/c.json"}, "it must use https"),
        ({"external_client_id": "https://127.0.0.1/c.json"}, "IP address"),
        ({"external_client_id": "https://a.example/"}, "needs a path beyond /"),
        ({}, "Missing required property: external_client_id"),
        ({"external_client_id": CIMD_URL, "name": "x"}, "Additional properties not allowed"),
    ],
)
def test_a_bad_cimd_request_is_an_invalid_body(
    api: httpx.Client, headers: dict[str, str], body: dict[str, str], message: str
) -> None:
    for route in ("preview", "register"):
        response = api.post(f"/api/v2/clients/cimd/{route}", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["errorCode"] == "invalid_body"
        assert message in response.json()["message"]


def test_loopback_documents_need_the_test_setting(tenant: Tenant) -> None:
    url = "https://127.0.0.1:8443/client.json"
    document = {**CIMD_DOCUMENT, "client_id": url, "redirect_uris": ["https://127.0.0.1/cb"]}
    with (
        Server(
            tenant,
            client_id=MANAGEMENT_ID,
            client_secret=MANAGEMENT_SECRET,
            documents={url: document},
            allow_loopback_documents=True,
        ) as loopback,
        httpx.Client(base_url=loopback.base_url) as client,
    ):
        response = client.post(
            "/api/v2/clients/cimd/preview",
            json={"external_client_id": url},
            headers=bearer(issue_token(client)),
        )

    assert response.status_code == 200
    assert response.json()["mapped_fields"]["external_client_id"] == url


def test_a_custom_document_source_is_asked_and_its_errors_reported(tenant: Tenant) -> None:
    asked: list[str] = []

    def source(url: str) -> dict[str, Any]:
        asked.append(url)
        raise CimdError(f"{url}: answered 404")

    with (
        Server(
            tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET, documents=source
        ) as custom,
        httpx.Client(base_url=custom.base_url) as client,
    ):
        token = issue_token(client)
        preview = client.post(
            "/api/v2/clients/cimd/preview",
            json={"external_client_id": CIMD_URL},
            headers=bearer(token),
        )
        fixtures = client.post("/__control/documents", json={CIMD_URL: CIMD_DOCUMENT})

    assert asked == [CIMD_URL]
    assert preview.json() == {"errors": [f"{CIMD_URL}: answered 404"]}
    assert fixtures.status_code == 409


def test_fixture_documents_fall_back_and_can_be_removed() -> None:
    fallback_urls: list[str] = []

    def fallback(url: str) -> dict[str, Any]:
        fallback_urls.append(url)
        return {"from": "network"}

    documents = FixtureDocuments({CIMD_URL: CIMD_DOCUMENT}, fallback=fallback)
    assert documents(CIMD_URL) == CIMD_DOCUMENT
    documents.update({CIMD_URL: None})
    assert documents(CIMD_URL) == {"from": "network"}
    assert fallback_urls == [CIMD_URL]


# -- rate limiting ---------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [False, True])
def test_a_burst_then_429_with_auth0s_headers(tenant: Tenant, retry_after: bool) -> None:
    # Auth0 documents x-ratelimit-* and no Retry-After on the Management API; serve adds
    # one only when asked (auth0-fidelity.md section 5).
    with (
        Server(
            tenant,
            client_id=MANAGEMENT_ID,
            client_secret=MANAGEMENT_SECRET,
            rate_limit="3/0.5",
            retry_after=retry_after,
        ) as limited,
        httpx.Client(base_url=limited.base_url) as client,
    ):
        token = issue_token(client)
        before = time.time()
        responses = [client.get("/api/v2/clients", headers=bearer(token)) for _ in range(4)]
        after = time.time()

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-limit"] for r in responses] == ["3"] * 4
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    refused = responses[3]
    assert refused.json() == TOO_MANY_REQUESTS
    assert refused.headers.get("retry-after") == ("2" if retry_after else None)
    # At 0.5 tokens a second the next one is at most 2 s after the refusal.
    assert before < int(refused.headers["x-ratelimit-reset"]) <= math.ceil(after + 2)
    assert "retry-after" not in responses[0].headers


def test_rate_limit_headers_are_on_every_api_answer(tenant: Tenant) -> None:
    with (
        Server(
            tenant,
            client_id=MANAGEMENT_ID,
            client_secret=MANAGEMENT_SECRET,
            rate_limit="enterprise",
        ) as limited,
        httpx.Client(base_url=limited.base_url) as client,
    ):
        before = time.time()
        answers = [
            client.get("/api/v2/clients"),  # 401
            client.get("/api/v2/users"),  # 404
            client.post("/api/v2/clients", content=b"{"),  # 401 before the body is read
        ]
        token_answer = client.post("/oauth/token", data={})

    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "50"
        assert int(answer.headers["x-ratelimit-remaining"]) >= 47
        assert int(answer.headers["x-ratelimit-reset"]) >= math.ceil(before)
    assert "x-ratelimit-limit" not in token_answer.headers


def test_token_buckets_refill_at_their_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(parse_rate_limit("2/4"), clock=lambda: now[0])

    first, second, third = (limiter.take("GET", "/api/v2/clients") for _ in range(3))
    assert first is not None and second is not None and third is not None
    assert (first.allowed, first.remaining, first.reset_after) == (True, 1, 0.25)
    assert (second.allowed, second.remaining, second.reset_after) == (True, 0, 0.5)
    assert (third.allowed, third.remaining, third.reset_after, third.retry_after) == (
        False,
        0,
        0.25,
        1,
    )
    now[0] += 0.25
    fourth = limiter.take("GET", "/api/v2/clients")
    assert fourth is not None and fourth.allowed
    now[0] += 60
    refilled = limiter.take("GET", "/api/v2/clients")
    assert refilled is not None and refilled.remaining == 1


def test_self_service_keeps_listing_apart_from_everything_else() -> None:
    limiter = RateLimiter(PRESETS["self_service"], clock=lambda: 0.0)

    listing = [limiter.take("GET", "/api/v2/clients") for _ in range(6)]
    other = limiter.take("GET", "/api/v2/clients/abc")

    assert [d.allowed for d in listing if d] == [True] * 5 + [False]
    assert other is not None and other.allowed and other.limit == 10
    assert listing[0] is not None and listing[0].limit == 5
    assert listing[5] is not None and listing[5].retry_after == 1  # 100/min: 0.6 s


def test_rate_limit_settings_are_parsed() -> None:
    assert parse_rate_limit("off").groups == ()
    assert parse_rate_limit("free").groups[0].spec == BucketSpec(2, 2.0)
    assert parse_rate_limit("self-service").name == "self_service"
    assert parse_rate_limit("enterprise").groups[0].spec == BucketSpec(50, 16.0)
    assert parse_rate_limit("10/2.5").groups[0].spec == BucketSpec(10, 2.5)
    assert RateLimiter(parse_rate_limit("off")).take("GET", "/api/v2/clients") is None
    for bad in ("fast", "0/1", "5/0", "5/-1", "5"):
        with pytest.raises(ValueError):
            parse_rate_limit(bad)


# -- injected faults -------------------------------------------------------------------------


def test_injected_429s_carry_retry_headers_then_service_resumes(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    injected = api.post("/__control/inject", json={"status": 429, "count": 2, "retry_after": 3})

    before = time.time()
    responses = [api.get("/api/v2/clients", headers=headers) for _ in range(3)]
    after = time.time()

    assert injected.status_code == 204
    assert [r.status_code for r in responses] == [429, 429, 200]
    for refused in responses[:2]:
        assert refused.json() == TOO_MANY_REQUESTS
        assert refused.headers["retry-after"] == "3"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert math.ceil(before + 3) <= int(refused.headers["x-ratelimit-reset"])
        assert int(refused.headers["x-ratelimit-reset"]) <= math.ceil(after + 3)


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
def test_injected_server_errors_match_their_path_prefix(
    api: httpx.Client, headers: dict[str, str], status: int, error: str
) -> None:
    client_id = create(api, headers)["client_id"]
    api.post(
        "/__control/inject",
        json={"status": status, "path_prefix": f"/api/v2/clients/{client_id}/credentials"},
    )

    untouched = api.get(f"/api/v2/clients/{client_id}", headers=headers)
    failed = api.get(f"/api/v2/clients/{client_id}/credentials", headers=headers)
    recovered = api.get(f"/api/v2/clients/{client_id}/credentials", headers=headers)

    assert untouched.status_code == 200
    assert failed.status_code == status
    assert failed.json()["statusCode"] == status
    assert failed.json()["error"] == error
    assert recovered.status_code == 200


def test_an_injected_delay_slows_the_answer_down(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    api.post("/__control/inject", json={"delay": 0.3})

    started = time.perf_counter()
    slow = api.get("/api/v2/clients", headers=headers)
    slow_seconds = time.perf_counter() - started

    assert slow.status_code == 200
    assert slow_seconds >= 0.3


def test_pending_faults_can_be_dropped(api: httpx.Client, headers: dict[str, str]) -> None:
    api.post("/__control/inject", json={"status": 503, "count": 5})

    assert api.delete("/__control/inject").status_code == 204
    assert api.get("/api/v2/clients", headers=headers).status_code == 200


def test_an_injected_fault_can_hit_the_token_endpoint(api: httpx.Client) -> None:
    api.post("/__control/inject", json={"status": 503, "path_prefix": "/oauth/token"})

    assert token_request(api).status_code == 503
    assert token_request(api).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": 404},
        {"status": 429, "count": 0},
        {"status": 500, "delay": -1},
        {"status": 500, "path_prefix": "api"},
        {"status": 500, "when": "now"},
        [],
    ],
)
def test_a_bad_injection_is_refused(api: httpx.Client, body: Any) -> None:
    response = api.post("/__control/inject", json=body)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_body"


# -- control routes --------------------------------------------------------------------------


def test_the_request_log_records_api_requests_only(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    before = time.time()
    api.get("/api/v2/clients", params={"per_page": "5"}, headers=headers)
    api.get("/api/v2/clients/nope", headers=headers)
    api.get("/__control/health")
    after = time.time()

    entries = api.get("/__control/requests").json()["requests"]

    assert [(e["method"], e["path"], e["query"], e["status"]) for e in entries] == [
        ("GET", "/api/v2/clients", "per_page=5", 200),
        ("GET", "/api/v2/clients/nope", "", 404),
    ]
    assert before <= entries[0]["time"] <= entries[1]["time"] <= after
    assert api.delete("/__control/requests").status_code == 204
    assert api.get("/__control/requests").json() == {"requests": [], "in_flight": 0}


def test_the_request_log_counts_the_requests_being_answered(
    server: Server, headers: dict[str, str]
) -> None:
    api_url = f"{server.base_url}/api/v2/clients"
    control = f"{server.base_url}/__control/requests"
    httpx.post(f"{server.base_url}/__control/inject", json={"delay": 1}).raise_for_status()
    answered: list[int] = []
    slow = threading.Thread(
        target=lambda: answered.append(httpx.get(api_url, headers=headers).status_code)
    )
    slow.start()
    try:
        while httpx.get(control).json()["in_flight"] == 0:
            assert slow.is_alive(), "the delayed request was answered before it was counted"
        assert httpx.get(control).json()["requests"] == []  # not answered yet
    finally:
        slow.join()
    log = httpx.get(control).json()
    assert (answered, log["in_flight"], len(log["requests"])) == ([200], 0, 1)


def test_seed_inserts_clients_with_their_ids_and_reset_empties_the_tenant(
    api: httpx.Client, headers: dict[str, str]
) -> None:
    seeded = api.post(
        "/__control/seed",
        json={"clients": [{"client_id": "legacy-portal", "name": "Legacy", "app_type": "spa"}]},
    )
    assert seeded.status_code == 201
    assert api.get("/api/v2/clients/legacy-portal", headers=headers).json()["name"] == "Legacy"

    assert api.post("/__control/reset").status_code == 204

    remaining = api.get("/api/v2/clients", headers=headers).json()
    assert [(c["global"], c["client_id"]) for c in remaining][1:] == [(False, MANAGEMENT_ID)]
    assert remaining[0]["global"] is True
    assert api.get("/api/v2/clients/legacy-portal", headers=headers).status_code == 404


def test_a_bad_seed_names_the_client_at_fault(api: httpx.Client) -> None:
    response = api.post("/__control/seed", json={"clients": [{"name": "ok"}, {"app_type": "spa"}]})

    assert response.status_code == 400
    assert response.json()["message"].startswith("clients[1]: Payload validation error")


def test_health_and_unknown_control_routes(api: httpx.Client) -> None:
    assert api.get("/__control/health").json()["status"] == "ok"
    assert api.get("/__control/nothing").json() == ROUTE_NOT_FOUND


# -- the server itself -----------------------------------------------------------------------


def test_twenty_clients_created_at_once_all_succeed(
    server: Server, headers: dict[str, str], api: httpx.Client
) -> None:
    results: list[httpx.Response] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def create_one(n: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v2/clients", json={"name": f"Concurrent {n}"}, headers=headers
            )
        with lock:
            results.append(response)

    threads = [threading.Thread(target=create_one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in results] == [201] * 20
    assert len({r.json()["client_id"] for r in results}) == 20
    totals = api.get(
        "/api/v2/clients", params={"include_totals": "true", "is_global": "false"}, headers=headers
    ).json()
    assert totals["total"] == 20 + 1  # and the management client


def test_one_connection_serves_many_requests(server: Server, token: str) -> None:
    connection = http.client.HTTPConnection(server.base_url.removeprefix("http://"), timeout=10)
    try:
        statuses = []
        sockets = set()
        for _ in range(3):
            connection.request("GET", "/api/v2/clients", headers=bearer(token))
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            sockets.add(id(connection.sock))
    finally:
        connection.close()

    assert statuses == [200, 200, 200]
    assert len(sockets) == 1


def test_start_returns_a_server_already_answering_and_stop_ends_keep_alive_connections(
    tenant: Tenant,
) -> None:
    server = Server(tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET)
    base_url = server.start()
    try:
        with httpx.Client(base_url=base_url) as client:
            assert client.get("/__control/health").status_code == 200
            server.stop()
            with pytest.raises(httpx.TransportError):
                client.get("/__control/health")
    finally:
        server.stop()


def test_a_server_that_only_bound_stops_at_once(tenant: Tenant) -> None:
    server = Server(tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET)
    base_url = server.bind()

    server.stop()

    with pytest.raises(RuntimeError):
        server.base_url  # noqa: B018
    with httpx.Client() as client, pytest.raises(httpx.TransportError):
        client.get(f"{base_url}/__control/health")


def test_the_server_refuses_a_bad_configuration(tenant: Tenant) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        Server(tenant, client_id=MANAGEMENT_ID, client_secret=MANAGEMENT_SECRET, rate_limit="lots")
    with pytest.raises(ValueError, match="client_secret"):
        Server(tenant, client_id="m", client_secret="")


# -- the command -----------------------------------------------------------------------------


def test_serve_refuses_an_unknown_rate_limit() -> None:
    result = CliRunner().invoke(serve, ["--rate-limit", "turbo"])

    assert result.exit_code == 2
    assert "unknown rate limit 'turbo'" in result.output


def test_serve_runs_until_interrupted_and_prints_how_to_connect(tmp_path: Path) -> None:
    script = "from reconciler.server import serve; serve()"
    env = {**os.environ, "RECONCILER_SERVE_CLIENT_SECRET": "given-secret"}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", "0", "--db", str(tmp_path / "r.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=interruptible,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        first_line = process.stdout.readline() if ready else ""
        base_url = first_line.rsplit(" ", 1)[-1].strip()
        with httpx.Client(base_url=base_url) as client:
            health = client.get("/__control/health")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a server behind, even on a loaded machine
            process.wait()
            raise
    assert process.stdout is not None and process.stderr is not None
    output, errors = first_line + process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()

    assert base_url.startswith("http://127.0.0.1:")
    assert health.status_code == 200
    assert "client_id:" in output
    assert "given-secret" not in output
    assert process.returncode == 0, errors


def test_serve_prints_a_generated_secret_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Server) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Server, "serve_forever", interrupted)
    runner = CliRunner(
        env={"RECONCILER_SERVE_CLIENT_ID": None, "RECONCILER_SERVE_CLIENT_SECRET": None}
    )

    result = runner.invoke(serve, ["--port", "0", "--db", str(tmp_path / "r.db")])

    assert result.exit_code == 0, result.output
    secret_lines = [line for line in result.output.splitlines() if "client_secret:" in line]
    assert len(secret_lines) == 1
    assert "generated" in secret_lines[0]
    assert len(secret_lines[0].split()[1]) == 64
