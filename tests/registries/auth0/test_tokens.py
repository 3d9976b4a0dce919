"""The Management API token through ``auth0://`` against a mock transport: the audience
(the tenant's own domain, custom domains apart), /oauth/token retried as the API calls
are, the scopes a token grants, and the management client's private_key_jwt."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reconciler.errors import InputError, RegistryError
from reconciler.registries.auth0.registry import Auth0Registry, RetryPolicy, open_auth0

Handler = Callable[[httpx.Request], httpx.Response]
TENANT = "tenant.eu.auth0.com"
CUSTOM = "https://login.example.com"
SECRET_ENV = {"AUTH0_CLIENT_ID": "mgmt", "AUTH0_CLIENT_SECRET": "s"}


class Recorder:
    """A transport that answers /oauth/token from a list (then 200s), and every other
    request with an empty client list; it records what it was sent, and the sleeps."""

    def __init__(self, *token_answers: httpx.Response) -> None:
        self.token_answers = list(token_answers)
        self.requests: list[httpx.Request] = []
        self.slept: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            if self.token_answers:
                return self.token_answers.pop(0)
            return httpx.Response(200, json={"access_token": "t0k", "scope": "read:clients"})
        return httpx.Response(200, json={"total": 0, "clients": []})

    def token_requests(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == "/oauth/token"]


def opened(
    recorder: Recorder,
    environ: dict[str, str],
    uri: str = f"auth0://{TENANT}",
    **options: Any,
) -> Auth0Registry:
    registry = open_auth0(
        uri,
        environ=environ,
        client=httpx.Client(transport=httpx.MockTransport(recorder)),
        lock=False,
        retry=RetryPolicy(base_delay=0.01, max_delay=0.02, max_rate_limit_wait=5),
        **options,
    )
    registry.api.tokens._sleep = recorder.slept.append  # no waiting in tests
    return registry


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# -- the audience ------------------------------------------------------------------------


def test_the_audience_is_the_tenant_domains_even_when_a_custom_domain_is_called(
    recorder: Recorder,
) -> None:
    registry = opened(recorder, SECRET_ENV, base_url=CUSTOM)
    registry.list_apps()
    token_request = next(r for r in recorder.requests if r.url.path == "/oauth/token")
    assert str(token_request.url) == f"{CUSTOM}/oauth/token"
    assert recorder.token_requests()[0]["audience"] == f"https://{TENANT}/api/v2/"


@pytest.mark.parametrize(
    ("environ", "option", "expected"),
    [
        ({"AUTH0_AUDIENCE": "https://env.example/api/v2/"}, None, "https://env.example/api/v2/"),
        (
            {"AUTH0_AUDIENCE": "https://env.example/api/v2/"},
            "https://option.example/api/v2/",
            "https://option.example/api/v2/",
        ),
    ],
)
def test_the_audience_can_be_named(
    recorder: Recorder, environ: dict[str, str], option: str | None, expected: str
) -> None:
    opened(recorder, {**SECRET_ENV, **environ}, audience=option).list_apps()
    assert recorder.token_requests()[0]["audience"] == expected


def test_a_custom_domains_audience_is_refused_with_the_fix_named() -> None:
    # Auth0's answer when the audience names a custom domain (auth0-fidelity.md section 1).
    refusal = httpx.Response(
        403,
        json={
            "error": "access_denied",
            "error_description": "Service not enabled within domain: https://login.example.com/api/v2/",
        },
    )
    registry = opened(Recorder(refusal), SECRET_ENV, uri="auth0://login.example.com")
    with pytest.raises(RegistryError) as refused:
        registry.list_apps()
    message = str(refused.value)
    assert "Service not enabled within domain" in message
    assert "AUTH0_AUDIENCE" in message and "auth0://TENANT.REGION.auth0.com" in message


# -- retries -----------------------------------------------------------------------------


def test_a_429_from_the_token_endpoint_waits_its_retry_after() -> None:
    limited = httpx.Response(429, headers={"retry-after": "3"}, json={"error": "too_many"})
    recorder = Recorder(limited)
    opened(recorder, SECRET_ENV).list_apps()
    assert len(recorder.token_requests()) == 2
    assert recorder.slept == [3.0]


def test_a_429_without_retry_after_backs_off() -> None:
    limited = httpx.Response(429, json={"error": "too_many_requests"})
    recorder = Recorder(limited, limited)
    opened(recorder, SECRET_ENV).list_apps()
    assert len(recorder.token_requests()) == 3
    assert len(recorder.slept) == 2 and all(0 < pause <= 0.02 for pause in recorder.slept)


def test_rate_limit_waits_at_the_token_endpoint_are_bounded() -> None:
    limited = httpx.Response(429, headers={"retry-after": "2"}, json={"error": "too_many"})
    recorder = Recorder(*[limited] * 10)
    with pytest.raises(RegistryError, match="still rate limited"):
        opened(recorder, SECRET_ENV).list_apps()
    assert sum(recorder.slept) <= 5


def test_5xx_and_network_failures_at_the_token_endpoint_are_retried_a_bounded_number_of_times() -> (
    None
):
    failing = httpx.Response(503, json={"error": "server_error", "error_description": "down"})
    recorder = Recorder(failing, failing)
    opened(recorder, SECRET_ENV).list_apps()
    assert len(recorder.token_requests()) == 3

    always = Recorder(*[failing] * 10)
    with pytest.raises(RegistryError, match=r"down \(after 5 attempts\)"):
        opened(always, SECRET_ENV).list_apps()
    assert len(always.token_requests()) == 5

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    registry = open_auth0(
        f"auth0://{TENANT}",
        environ=SECRET_ENV,
        client=httpx.Client(transport=httpx.MockTransport(unreachable)),
        lock=False,
        retry=RetryPolicy(attempts=2, base_delay=0.0),
    )
    with pytest.raises(RegistryError, match=r"cannot reach .*\(after 2 attempts\)"):
        registry.list_apps()


def test_a_refused_secret_is_not_retried() -> None:
    recorder = Recorder(httpx.Response(401, json={"error": "access_denied"}))
    with pytest.raises(RegistryError, match="check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET"):
        opened(recorder, SECRET_ENV).list_apps()
    assert len(recorder.token_requests()) == 1


# -- scopes, and the management client a ready token names --------------------------------


def ready_token(**claims: Any) -> str:
    return jwt.encode(claims, "not-auth0s-key-but-unchecked-here-anyway", algorithm="HS256")


def test_the_scopes_come_from_the_token_answer(recorder: Recorder) -> None:
    assert opened(recorder, SECRET_ENV).api.tokens.scopes() == frozenset({"read:clients"})


def test_a_ready_tokens_scopes_and_client_come_from_its_claims(recorder: Recorder) -> None:
    token = ready_token(scope="read:clients read:client_credentials", azp="mgmtApp")
    registry = opened(recorder, {"AUTH0_TOKEN": token})
    assert registry.api.tokens.scopes() == {"read:clients", "read:client_credentials"}
    assert registry.api.tokens.client_id == "mgmtApp"
    assert recorder.token_requests() == []


def test_a_ready_token_hides_the_management_client_it_was_issued_to() -> None:
    listed = [{"client_id": "mgmtApp", "name": "reconciler"}, {"client_id": "web", "name": "Web"}]

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"total": 2, "clients": listed})

    registry = open_auth0(
        f"auth0://{TENANT}",
        environ={"AUTH0_TOKEN": ready_token(azp="mgmtApp", scope="read:clients")},
        client=httpx.Client(transport=httpx.MockTransport(handle)),
        lock=False,
    )
    assert [app.client_id for app in registry.list_apps()] == ["web"]


def test_an_opaque_ready_token_says_no_scopes(recorder: Recorder) -> None:
    assert opened(recorder, {"AUTH0_TOKEN": "opaque"}).api.tokens.scopes() is None


# -- the management client's private_key_jwt -----------------------------------------------


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def key_file(tmp_path: Path, key: rsa.RSAPrivateKey) -> Iterator[Path]:
    path = tmp_path / "management.pem"
    path.write_text(pem(key))
    yield path


def test_the_management_client_authenticates_with_a_signed_assertion(
    key: rsa.RSAPrivateKey, key_file: Path
) -> None:
    failing = httpx.Response(503, json={"error": "server_error"})
    recorder = Recorder(failing)
    environ = {"AUTH0_CLIENT_ID": "mgmt", "AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file)}
    opened(recorder, environ, base_url=CUSTOM).list_apps()
    sent = recorder.token_requests()
    assert len(sent) == 2 and all("client_secret" not in body for body in sent)
    claims = [
        jwt.decode(
            body["client_assertion"],
            key.public_key(),
            algorithms=["RS256"],
            audience=f"{CUSTOM}/",
            issuer="mgmt",
        )
        for body in sent
    ]
    assert {body["client_assertion_type"] for body in sent} == {
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    }
    assert all(c["sub"] == "mgmt" and c["exp"] - c["iat"] == 60 for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]  # a retry signs a new assertion


def test_the_assertion_key_may_be_the_pem_itself_signed_with_another_algorithm(
    key: rsa.RSAPrivateKey,
) -> None:
    recorder = Recorder()
    environ = {
        "AUTH0_CLIENT_ID": "mgmt",
        "AUTH0_CLIENT_ASSERTION_KEY": pem(key),
        "AUTH0_CLIENT_ASSERTION_ALG": "PS256",
    }
    opened(recorder, environ).list_apps()
    assertion = recorder.token_requests()[0]["client_assertion"]
    assert jwt.get_unverified_header(assertion)["alg"] == "PS256"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AUTH0_CLIENT_ASSERTION_KEY_FILE": "/nowhere/key.pem"}, "No such file"),
        (
            {"AUTH0_CLIENT_ASSERTION_KEY": "x", "AUTH0_CLIENT_ASSERTION_KEY_FILE": "y"},
            "not both",
        ),
        ({"AUTH0_CLIENT_ASSERTION_KEY": "x", "AUTH0_CLIENT_SECRET": "s"}, "not both"),
        ({"AUTH0_CLIENT_ASSERTION_KEY": "not a key"}, "not a PEM private key"),
        ({"AUTH0_CLIENT_ASSERTION_KEY": pem(ec.generate_private_key(ec.SECP256R1()))}, "RSA"),
        ({"AUTH0_CLIENT_ASSERTION_KEY": pem(rsa_key(1024))}, "2048 to 4096 bits"),
        ({"AUTH0_CLIENT_ASSERTION_ALG": "HS256", "AUTH0_CLIENT_ASSERTION_KEY": "x"}, "RS256"),
    ],
)
def test_a_client_assertion_key_that_cannot_work_is_refused_when_opening(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        open_auth0(f"auth0://{TENANT}", environ={"AUTH0_CLIENT_ID": "mgmt", **environ})


def test_a_client_assertion_key_needs_the_client_id(key_file: Path) -> None:
    with pytest.raises(InputError, match="needs AUTH0_CLIENT_ID"):
        open_auth0(f"auth0://{TENANT}", environ={"AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file)})


def test_an_encrypted_key_is_refused_with_what_to_do(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    with pytest.raises(InputError, match="encrypted"):
        open_auth0(
            f"auth0://{TENANT}",
            environ={"AUTH0_CLIENT_ID": "mgmt", "AUTH0_CLIENT_ASSERTION_KEY": encrypted},
        )
