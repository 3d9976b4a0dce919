"""Our CIMD rules against node-oidc-provider's own CIMD implementation (tests/peer).

Each case is a Client ID Metadata Document under ``https://client.example.test/...``. The
peer fetches it (its ``CIMD_FETCH_MAP`` sends those URLs to a plain-HTTP server in this
module) when it receives a pushed authorization request naming the URL as ``client_id``;
its answer is the peer's verdict. Ours is ``cimd_url_problems`` plus the errors of
``validate_document``. The two must agree, except for the cases listed below with the
reason: where we are stricter on purpose (``STRICTER``), where the peer refuses for a
policy of its own configuration (``PEER_POLICY``), and where the peer refuses what we
accept and the question is open (``PEER_STRICTER_REPORTED``, shown as expected failures
until decided). Each listed case is asserted to still disagree in its direction, so the
lists cannot go stale.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from reconciler.cimd.document import validate_document
from reconciler.cimd.url import cimd_url_problems
from tests.peers import oidc_provider

ORIGIN = "https://client.example.test"
OTHER_ORIGIN = "https://keys.example.test"
CALLBACK = f"{ORIGIN}/callback"
JWKS_URI = f"{ORIGIN}/jwks.json"
OTHER_ORIGIN_JWKS_URI = f"{OTHER_ORIGIN}/jwks.json"
OTHER_ORIGIN_PATH = "/other-origin"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KEY_ID = "differential-1"

# -- the signing key of the private_key_jwt cases --------------------------------------------

CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _coordinate(value: int) -> str:
    return _base64url(value.to_bytes(32, "big"))


PUBLIC_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": _coordinate(CLIENT_KEY.public_key().public_numbers().x),
    "y": _coordinate(CLIENT_KEY.public_key().public_numbers().y),
    "kid": KEY_ID,
    "use": "sig",
    "alg": "ES256",
}
PRIVATE_JWK = {**PUBLIC_JWK, "d": _coordinate(CLIENT_KEY.private_numbers().private_value)}
KEY_SET = {"keys": [PUBLIC_JWK]}


def client_assertion(client_id: str, audience: str) -> str:
    """An ES256 JWT authenticating ``client_id`` (RFC 7523 §2.2)."""
    now = int(time.time())
    header = {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
    }
    signing_input = ".".join(_base64url(json.dumps(part).encode()) for part in (header, claims))
    r, s = decode_dss_signature(CLIENT_KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_base64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# -- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    document: Mapping[str, Any]


def valid_document(url: str) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Differential test client",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def case(
    name: str, *, url: str | None = None, without: tuple[str, ...] = (), **members: Any
) -> Case:
    """A valid document for ``url`` (by default its own path) changed by ``members``."""
    url = url or f"{ORIGIN}/cases/{name}"
    document = {**valid_document(url), **members}
    for member in without:
        del document[member]
    return Case(name, url, document)


def at(path: str) -> str:
    return f"{ORIGIN}/cases/{path}"


NATIVE = "native"
LONG_PATH = "x" * 100

CORPUS = [
    # documents both should accept
    case("valid-public-client"),
    case("valid-private-key-jwt", token_endpoint_auth_method="private_key_jwt", jwks_uri=JWKS_URI),
    case(
        "valid-native-loopback-ipv4",
        application_type=NATIVE,
        redirect_uris=["http://127.0.0.1:8765/callback"],
    ),
    case(
        "valid-native-loopback-ipv6",
        application_type=NATIVE,
        redirect_uris=["http://[::1]:8765/callback"],
    ),
    case(
        "valid-native-loopback-localhost",
        application_type=NATIVE,
        redirect_uris=["http://localhost:8765/callback"],
    ),
    case("valid-web-https-localhost", redirect_uris=["https://localhost/callback"]),
    case(
        "valid-information-uris",
        client_uri=f"{ORIGIN}/",
        logo_uri=f"{ORIGIN}/logo.png",
        policy_uri=f"{ORIGIN}/privacy",
        tos_uri=f"{ORIGIN}/terms",
    ),
    Case(
        "valid-localized-client-name",
        at("valid-localized-client-name"),
        {**valid_document(at("valid-localized-client-name")), "client_name#fr": "Client de test"},
    ),
    case("valid-refresh-token-grant-only", grant_types=["refresh_token"]),
    case("valid-mixed-grants", grant_types=["authorization_code", "password"]),
    case("valid-response-types-id-token", response_types=["id_token"]),
    case("valid-response-types-none", response_types=["none"]),
    case("valid-description-140", description="d" * 140),
    case(
        "valid-unknown-members",
        software_id="differential",
        software_version="1.0",
        x_vendor_flag=True,
    ),
    case(
        "valid-nested-garbage-member",
        x_extension={"a": [1, {"b": None}, [[]]], "c": {"d": {"e": [True, 1.5, "f"]}}},
    ),
    case("url-default-port-written-out", url=f"{ORIGIN}:443/cases/url-default-port-written-out"),
    case("url-trailing-slash", url=at("url-trailing-slash/")),
    # client_id
    case("client-id-mismatch", client_id=at("someone-else")),
    case("client-id-missing", without=("client_id",)),
    case("client-id-not-a-string", client_id=42),
    case(
        "client-id-default-port-written-out",
        client_id=f"{ORIGIN}:443/cases/client-id-default-port-written-out",
    ),
    case(
        "url-default-port-client-id-without",
        url=f"{ORIGIN}:443/cases/url-default-port-client-id-without",
        client_id=at("url-default-port-client-id-without"),
    ),
    case("client-id-trailing-slash", client_id=at("client-id-trailing-slash/")),
    case(
        "url-trailing-slash-client-id-without",
        url=at("url-trailing-slash-client-id-without/"),
        client_id=at("url-trailing-slash-client-id-without"),
    ),
    case("client-id-host-case", client_id="https://CLIENT.example.test/cases/client-id-host-case"),
    # client_name
    case("client-name-missing", without=("client_name",)),
    case("client-name-empty", client_name=""),
    case("client-name-blank", client_name="   "),
    case("client-name-not-a-string", client_name=42),
    case("client-name-object", client_name={"en": "Differential test client"}),
    # client authentication
    case("auth-client-secret-basic", token_endpoint_auth_method="client_secret_basic"),
    case("auth-client-secret-post", token_endpoint_auth_method="client_secret_post"),
    case("auth-client-secret-jwt", token_endpoint_auth_method="client_secret_jwt"),
    case("auth-tls-client-auth", token_endpoint_auth_method="tls_client_auth"),
    case("auth-method-missing", without=("token_endpoint_auth_method",)),
    case("client-secret-present", client_secret="s3cr3t"),
    case("client-secret-expires-at-present", client_secret_expires_at=0),
    # keys
    case("jwks-inline", token_endpoint_auth_method="private_key_jwt", jwks=KEY_SET),
    case(
        "jwks-inline-private-key",
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [PRIVATE_JWK]},
    ),
    case(
        "jwks-and-jwks-uri",
        token_endpoint_auth_method="private_key_jwt",
        jwks=KEY_SET,
        jwks_uri=JWKS_URI,
    ),
    case(
        "jwks-uri-other-origin",
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri=OTHER_ORIGIN_JWKS_URI,
    ),
    case(
        "jwks-uri-http",
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri="http://client.example.test/jwks.json",
    ),
    case("jwks-not-a-key-set", token_endpoint_auth_method="private_key_jwt", jwks={"keys": "k"}),
    case("private-key-jwt-without-keys", token_endpoint_auth_method="private_key_jwt"),
    # redirect URIs
    case("redirect-web-http-loopback", redirect_uris=["http://127.0.0.1:8765/callback"]),
    case("redirect-web-http", redirect_uris=["http://client.example.test/callback"]),
    case(
        "redirect-native-http-not-loopback",
        application_type=NATIVE,
        redirect_uris=["http://client.example.test/callback"],
    ),
    case(
        "redirect-native-https-loopback",
        application_type=NATIVE,
        redirect_uris=["https://127.0.0.1/callback"],
    ),
    case(
        "redirect-native-custom-scheme",
        application_type=NATIVE,
        redirect_uris=["com.example.client:/callback"],
    ),
    case("redirect-web-javascript", redirect_uris=["javascript:alert(1)"]),
    case("redirect-native-javascript", application_type=NATIVE, redirect_uris=["javascript:x"]),
    case("redirect-fragment", redirect_uris=[f"{CALLBACK}#fragment"]),
    case("redirect-uris-duplicate", redirect_uris=[CALLBACK, CALLBACK]),
    case("redirect-uris-empty", redirect_uris=[]),
    case("redirect-uris-missing", without=("redirect_uris",)),
    case("redirect-uris-not-an-array", redirect_uris=CALLBACK),
    case("redirect-uris-nested", redirect_uris=[{"uri": CALLBACK}]),
    # grant and response types
    case("grants-unsupported-only", grant_types=["password"]),
    case("grants-client-credentials-only", grant_types=["client_credentials"]),
    case("grants-not-an-array", grant_types="authorization_code"),
    case("grants-nested", grant_types=[["authorization_code"]]),
    case("response-types-token", response_types=["token"]),
    case("response-types-not-an-array", response_types="code"),
    # application_type
    case("application-type-unknown", application_type="desktop"),
    case("application-type-not-a-string", application_type=["web"]),
    # information URIs
    case("logo-uri-http", logo_uri="http://client.example.test/logo.png"),
    case("client-uri-http", client_uri="http://client.example.test/"),
    case("policy-uri-http", policy_uri="http://client.example.test/privacy"),
    case("tos-uri-http", tos_uri="http://client.example.test/terms"),
    case("logo-uri-javascript", logo_uri="javascript:alert(1)"),
    case("client-uri-data", client_uri="data:text/html,<h1>hi</h1>"),
    case("tos-uri-not-a-string", tos_uri=42),
    # other members
    case("description-too-long", description="d" * 141),
    case("description-not-a-string", description=["d"]),
    case("contacts-not-an-array", contacts="ops@client.example.test"),
    # the URL itself
    case("url-root", url=f"{ORIGIN}/"),
    case("url-query", url=f"{ORIGIN}/cases/url-query?version=1"),
    case("url-too-long", url=at(f"url-too-long-{LONG_PATH}")),
    case("url-bad-percent", url=at("url-bad-percent%zz")),
    case("url-uppercase-scheme", url="HTTPS://client.example.test/cases/url-uppercase-scheme"),
    case("url-dot-segment", url=f"{ORIGIN}/cases/../cases/url-dot-segment"),
    case("url-encoded-dot-segment", url=f"{ORIGIN}/cases/%2e%2e/cases/url-encoded-dot-segment"),
    case("url-fragment", url=at("url-fragment#part")),
    case("url-userinfo", url="https://user@client.example.test/cases/url-userinfo"),
]

#: The peer accepts, we refuse: rules we keep on purpose, with the reason.
STRICTER = {
    "client-name-missing": "Auth0 and MCP require client_name",
    "client-name-blank": "Auth0 requires a non-empty client_name; we count blanks as empty",
    "jwks-inline": "Auth0 refuses inline jwks (invalid_client_metadata); keys go at jwks_uri",
    "jwks-uri-other-origin": "Auth0 requires jwks_uri on the document's origin",
    "redirect-web-http-loopback": "Auth0 allows http loopback redirect URIs for native apps only",
    "redirect-web-http": "Auth0 requires https redirect URIs (http only on loopback, native)",
    "redirect-native-custom-scheme": "Auth0 CIMD redirect URIs are https, or loopback http",
    "redirect-uris-duplicate": "Auth0 requires unique redirect URIs (the peer drops repeats)",
    "grants-client-credentials-only": "Auth0 requires authorization_code or refresh_token",
    "description-too-long": "description ≤ 140 characters (Auth0)",
    "description-not-a-string": "Auth0's description is a string",
    "url-root": "Auth0: the URL's path must go beyond /",
    "url-query": "Auth0 refuses a query in the URL",
    "url-too-long": "Auth0 limits the URL to 120 bytes",
    "url-bad-percent": "Auth0: % must be followed by two hex digits",
    "url-uppercase-scheme": "the client_id is compared as a string, so HTTPS:// would be a "
    "second identity for the same URL; we take https:// only",
}

#: The peer refuses, we accept, because of how the peer is configured, not the document.
PEER_POLICY = {
    "response-types-token": "the peer offers no implicit access tokens (its response types are "
    "code, id_token, code id_token and none), drops unsupported values in CIMD mode and has "
    "none left; Auth0 does not use response_types",
}

#: The peer refuses, we accept: open disagreements, reported, not decided here.
PEER_STRICTER_REPORTED: dict[str, str] = {}


# -- the peer and the documents it fetches ---------------------------------------------------


class DocumentHost:
    """Plain HTTP on loopback: what the peer fetches instead of https://client.example.test."""

    def __init__(self, documents: Mapping[str, bytes]) -> None:
        self.documents = dict(documents)
        self.fetched: set[str] = set()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> DocumentHost:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.fetched.add(handler.path)
        body = self.documents.get(handler.path)
        handler.send_response(200 if body is not None else 404)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body or b"")))
        handler.end_headers()
        handler.wfile.write(body or b"")


def _handler_for(host: DocumentHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def fetch_map(origin: str) -> dict[str, str]:
    """The peer's CIMD_FETCH_MAP: URL prefix -> where to fetch instead; the first match wins."""
    return {
        f"{ORIGIN}:443": origin,
        "HTTPS://client.example.test": origin,
        "https://user@client.example.test": origin,
        ORIGIN: origin,
        OTHER_ORIGIN: origin + OTHER_ORIGIN_PATH,
    }


def served_path(url: str) -> str:
    """Where the peer's fetch of ``url`` lands on the DocumentHost (as the map sends it)."""
    for prefix, target in fetch_map("").items():
        if url.startswith(prefix):
            return target + url[len(prefix) :]
    raise AssertionError(f"{url} is outside the fetch map")


@dataclass(frozen=True)
class PeerAnswer:
    accepted: bool
    status: int
    body: str


class Peer:
    def __init__(self, issuer: str, host: DocumentHost, client: httpx.Client) -> None:
        self.issuer = issuer
        self.host = host
        self.client = client

    def judge(self, case: Case) -> PeerAnswer:
        """Whether the peer takes ``case``'s document as a client, from one pushed request."""
        response = self.client.post(
            f"{self.issuer}/request", data=authorization_request(case, self.issuer)
        )
        answer = PeerAnswer(response.status_code == 201, response.status_code, response.text)
        if answer.accepted or self._is_about_the_client(case, response):
            return answer
        pytest.fail(
            f"{case.name}: the peer's answer is not a verdict on the document: "
            f"HTTP {response.status_code} {response.text}"
        )

    def _is_about_the_client(self, case: Case, response: httpx.Response) -> bool:
        try:
            body = response.json()
        except json.JSONDecodeError:
            return False
        error = body.get("error")
        description = str(body.get("error_description", ""))
        if response.status_code == 400 and error == "invalid_client_metadata":
            return True
        if response.status_code == 400 and error == "invalid_redirect_uri":
            # RFC 7591's error for bad redirect_uris metadata; "redirect_uri did not match"
            # would be about the request, which always names a URI the document registers.
            return description.startswith("redirect_uris")
        # A client_id the peer will not treat as a document URL is looked up as a stored
        # client, not found, and refused (401) without fetching anything.
        return error == "invalid_client" and served_path(case.url) not in self.host.fetched


def authorization_request(case: Case, issuer: str) -> dict[str, str]:
    """Request parameters the document, if the peer accepts it, makes valid."""
    document = case.document
    redirect_uris = document.get("redirect_uris")
    redirect_uri = (
        redirect_uris[0]
        if isinstance(redirect_uris, list) and redirect_uris and isinstance(redirect_uris[0], str)
        else CALLBACK
    )
    response_types = document.get("response_types")
    response_type = (
        response_types[0]
        if isinstance(response_types, list)
        and response_types
        and isinstance(response_types[0], str)
        and "code" not in response_types
        else "code"
    )
    verifier = secrets.token_urlsafe(48)
    parameters = {
        "client_id": case.url,
        "response_type": response_type,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "nonce": secrets.token_urlsafe(16),
    }
    if "code" in response_type.split():
        challenge = _base64url(hashlib.sha256(verifier.encode()).digest())
        parameters |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if document.get("token_endpoint_auth_method") == "private_key_jwt":
        parameters |= {
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(case.url, issuer),
        }
    return parameters


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    documents = {served_path(c.url): json.dumps(c.document).encode() for c in CORPUS}
    key_set = json.dumps(KEY_SET).encode()
    documents[served_path(JWKS_URI)] = key_set
    documents[served_path(OTHER_ORIGIN_JWKS_URI)] = key_set
    with DocumentHost(documents) as host:
        environment = {"CIMD_FETCH_MAP": json.dumps(fetch_map(host.origin))}
        with oidc_provider(environment) as issuer, httpx.Client(timeout=10) as client:
            yield Peer(issuer, host, client)


# -- the tests -------------------------------------------------------------------------------


def our_errors(case: Case) -> list[str]:
    findings = validate_document(case.url, case.document)
    return [*cimd_url_problems(case.url), *(str(f) for f in findings if f.is_error)]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_the_peer_and_we_agree(peer: Peer, case: Case) -> None:
    answer = peer.judge(case)
    errors = our_errors(case)
    we_accept = not errors
    verdicts = (
        f"peer: HTTP {answer.status} {answer.body}\n"
        f"we: {'accept' if we_accept else 'refuse: ' + '; '.join(errors)}"
    )
    if case.name in STRICTER:
        assert answer.accepted and not we_accept, f"STRICTER lists {case.name}, but\n{verdicts}"
    elif case.name in PEER_POLICY:
        assert not answer.accepted and we_accept, f"PEER_POLICY lists {case.name}, but\n{verdicts}"
    elif case.name in PEER_STRICTER_REPORTED:
        assert not answer.accepted and we_accept, (
            f"PEER_STRICTER_REPORTED lists {case.name}, but\n{verdicts}"
        )
        pytest.xfail(f"reported disagreement: {PEER_STRICTER_REPORTED[case.name]}")
    else:
        assert answer.accepted == we_accept, f"{case.name}: the peer and we disagree\n{verdicts}"


def test_the_exception_lists_name_distinct_cases_of_the_corpus() -> None:
    names = [c.name for c in CORPUS]
    listed = [*STRICTER, *PEER_POLICY, *PEER_STRICTER_REPORTED]
    assert len(set(names)) == len(names)
    assert len({served_path(c.url) for c in CORPUS}) == len(CORPUS), "the peer caches by URL"
    assert len(set(listed)) == len(listed)
    assert set(listed) <= set(names)
