"""Fidelity rows: the token request (``auth0-fidelity.md`` section 1) and the management
client's private_key_jwt.

The embedded tenant issues no tokens, so these rows hold ``reconciler serve``, which
plays the tenant ``tenant.test`` reached at a custom domain (its loopback address).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.auth0_sdk import TENANT_DOMAIN, TlsServe

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServe]:
    with TlsServe(tmp_path_factory.mktemp("tokens") / "tenant.db") as running:
        yield running


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey) -> Iterator[TlsServe]:
    """Serve whose management client authenticates with private_key_jwt (no secret)."""
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path_factory.mktemp("keyed") / "tenant.db"
    with TlsServe(path, client_public_key=public) as running:
        yield running


def token_request(served: TlsServe, body: dict[str, str], *, form: bool = False) -> httpx.Response:
    with served.http() as http:
        url = f"{served.base_url}/oauth/token"
        return http.post(url, data=body) if form else http.post(url, json=body)


def secret_body(served: TlsServe, **more: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": served.client_id,
        "client_secret": served.client_secret,
        "audience": served.audience,
        **more,
    }


def test_the_audience_is_the_tenants_own_domain_not_a_custom_one(served: TlsServe) -> None:
    # Source: https://auth0.com/docs/tokens/guides/access-token/get-access-tokens, "Custom
    # Domains and the Management API": the Management API's identifier stays
    # https://TENANT.REGION.auth0.com/api/v2/ when it is called at a custom domain, and
    # asking for the custom domain's is answered 403 access_denied "Service not enabled
    # within domain" (auth0-fidelity.md section 1). Terraform (docs/index.md:49) and
    # auth0-deploy-cli (src/context/index.ts:206-209) have an audience setting for it.
    assert token_request(served, secret_body(served)).status_code == 200
    custom = f"{served.base_url}/api/v2/"
    refused = token_request(served, secret_body(served, audience=custom))
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "access_denied",
        "error_description": f"Service not enabled within domain: {custom}",
    }
    assert served.audience == f"https://{TENANT_DOMAIN}/api/v2/"


def test_the_token_endpoint_takes_json_and_form_bodies(served: TlsServe) -> None:
    # Source: Auth0's client credentials examples use both application/json and
    # application/x-www-form-urlencoded (auth0-fidelity.md section 1, "Form or JSON").
    assert token_request(served, secret_body(served)).status_code == 200
    assert token_request(served, secret_body(served), form=True).status_code == 200


def test_the_answer_says_the_granted_scopes_and_a_requested_scope_narrows_them(
    served: TlsServe,
) -> None:
    # Source: docs get-started/authentication-and-authorization-flow/client-credentials-flow
    # (the answer: access_token, scope, expires_in, token_type); expires_in defaults to
    # 86400 (auth0-fidelity.md section 1, "Caching and expiry"). A requested scope the
    # client's grant lacks is refused (403 access_denied).
    answer = token_request(served, secret_body(served)).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 86400
    assert "read:client_credentials" in answer["scope"].split()
    narrowed = token_request(served, secret_body(served, scope="read:clients")).json()
    assert narrowed["scope"] == "read:clients"
    refused = token_request(served, secret_body(served, scope="read:users"))
    assert refused.status_code == 403 and refused.json()["error"] == "access_denied"


def test_token_endpoint_errors_are_oauth_shaped(served: TlsServe) -> None:
    # Source: auth0-fidelity.md section 8: the token endpoint answers {error,
    # error_description}, not the Management API's {statusCode, error, message}.
    refused = token_request(served, secret_body(served, client_secret="wrong"))
    assert refused.status_code == 401
    assert refused.json() == {"error": "access_denied", "error_description": "Unauthorized"}


# -- the management client with private_key_jwt --------------------------------------------
# Source for every row below: docs get-started/authentication-and-authorization-flow/
# authenticate-with-private-key-jwt.mdx: header alg the credential's (kid optional); iss
# and sub the client id; aud "the URL of the Auth0 tenant or custom domain that receives
# the assertion ... Include the trailing slash"; exp, at most 5 minutes of lifetime;
# iat and nbf with up to 10 seconds of clock skew; jti unique, a one-time use token; iss,
# sub and jti at most 64 characters. auth0-python's client_authentication.py sends
# aud https://{domain}/. RFC 7523 would also take the token endpoint's URL as aud; Auth0's
# page names only the tenant's URL, the stricter reading, which serve holds.


def assertion(served: TlsServe, key: rsa.RSAPrivateKey, **claims: Any) -> str:
    alg = claims.pop("alg", "RS256")
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": served.client_id,
        "sub": served.client_id,
        "aud": f"https://{TENANT_DOMAIN}/",
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode({**base, **claims}, key, algorithm=alg)


def assertion_body(served: TlsServe, signed: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": served.client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "audience": served.audience,
    }


def test_a_client_assertion_gets_a_management_token(
    keyed: TlsServe, key: rsa.RSAPrivateKey
) -> None:
    answer = token_request(keyed, assertion_body(keyed, assertion(keyed, key)))
    assert answer.status_code == 200, answer.text
    # The custom domain that received it is a right aud as well.
    at_custom = assertion(keyed, key, aud=f"{keyed.base_url}/")
    assert token_request(keyed, assertion_body(keyed, at_custom)).status_code == 200
    # RFC 7521 section 4.2: client_id may be left to the assertion.
    body = assertion_body(keyed, assertion(keyed, key))
    del body["client_id"]
    assert token_request(keyed, body).status_code == 200


def test_a_client_assertion_is_used_once(keyed: TlsServe, key: rsa.RSAPrivateKey) -> None:
    body = assertion_body(keyed, assertion(keyed, key))
    assert token_request(keyed, body).status_code == 200
    again = token_request(keyed, body)
    assert again.status_code == 401 and "already been used" in again.json()["error_description"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": f"https://{TENANT_DOMAIN}/oauth/token"}, "aud"),
        ({"aud": f"https://{TENANT_DOMAIN}"}, "aud"),
        ({"iss": "someone-else"}, "iss"),
        ({"sub": "someone-else"}, "sub"),
        ({"exp": -1}, "expired"),
        ({"exp": 600}, "5 minutes"),
        ({"iat": 120, "exp": 180}, "iat"),
        ({"jti": "j" * 65}, "jti"),
        ({"alg": "PS256"}, "RS256"),
    ],
)
def test_a_client_assertion_auth0_would_refuse_is_refused(
    keyed: TlsServe, key: rsa.RSAPrivateKey, claims: dict[str, Any], reason: str
) -> None:
    # Times are seconds from now, taken when the row runs, not when the rows were collected.
    now = int(time.time())
    timed = {k: now + v if k in ("exp", "iat") else v for k, v in claims.items()}
    refused = token_request(keyed, assertion_body(keyed, assertion(keyed, key, **timed)))
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "access_denied"
    assert reason in refused.json()["error_description"]


def test_an_assertion_signed_by_another_key_is_refused(keyed: TlsServe) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = token_request(keyed, assertion_body(keyed, assertion(keyed, other)))
    assert refused.status_code == 401
    assert "Signature verification failed" in refused.json()["error_description"]


def test_a_private_key_jwt_client_cannot_use_a_secret(keyed: TlsServe) -> None:
    # Source: docs get-started/applications/configure-private-key-jwt.mdx: an app set to
    # Private Key JWT authenticates with its credentials; it has no secret method left
    # (client_authentication_methods and token_endpoint_auth_method are exclusive, go-auth0
    # reference.md Clients.Create).
    body = {
        "grant_type": "client_credentials",
        "client_id": keyed.client_id,
        "client_secret": "anything",
        "audience": keyed.audience,
    }
    assert token_request(keyed, body).status_code == 401


def test_a_token_got_with_an_assertion_is_a_management_api_token(
    keyed: TlsServe, key: rsa.RSAPrivateKey
) -> None:
    answer = token_request(keyed, assertion_body(keyed, assertion(keyed, key))).json()
    with keyed.http() as http:
        listed = http.get(
            f"{keyed.base_url}/api/v2/clients",
            headers={"Authorization": f"Bearer {answer['access_token']}"},
        )
    assert listed.status_code == 200
