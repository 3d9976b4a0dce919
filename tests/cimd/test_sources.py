"""CIMD sources over real HTTPS: each failure gives its documented result, and nothing is locked."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cimd.lockfile import LockFile
from reconciler.cimd.sources import Sources, gather_sources
from reconciler.core.model import DesiredApp
from reconciler.pipeline import update_lock
from tests.cimd_server import HOST, DocumentServer, TableResolver, client_document, fetcher

PATH = "/oauth/client.json"
Publish = Callable[[DocumentServer], None]


def publish_valid(server: DocumentServer) -> None:
    server.serve_json(PATH, client_document(server.url(PATH)))


FAILURES: dict[str, tuple[Publish, str]] = {
    "mismatched client_id": (
        lambda s: s.serve_json(PATH, client_document(f"https://{HOST}/other.json")),
        "client_id",
    ),
    "default port written out": (
        lambda s: s.serve_json(PATH, client_document(s.url(PATH).replace(f":{s.port}", ":443"))),
        "client_id",
    ),
    "oversize body": (
        lambda s: s.serve_json(PATH, {**client_document(s.url(PATH)), "x": "y" * 6000}),
        "5120-byte limit",
    ),
    "slow body": (
        lambda s: s.serve_json(PATH, client_document(s.url(PATH)), drip_seconds=0.05),
        "timed out",
    ),
    "redirect": (
        lambda s: s.serve(
            PATH, b"", status=302, headers={"Location": "https://evil.example/c.json"}
        ),
        "evil.example",
    ),
    "404": (lambda s: s.serve(PATH, b"gone", status=404), "404"),
    "non-JSON": (lambda s: s.serve(PATH, b"<html>hello</html>"), "JSON"),
    "private key in a JWKS": (
        lambda s: s.serve_json(
            PATH,
            {
                **client_document(s.url(PATH)),
                "jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "secret"}]},
            },
        ),
        "jwks",
    ),
}


def app_for(url: str) -> DesiredApp:
    return DesiredApp(key="partner", fields={}, cimd=url)


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_bad_document_is_never_locked(
    case: str, server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    publish, cause = FAILURES[case]
    publish(server)
    lock = LockFile(tmp_path / "reconciler.lock")
    sources = gather_sources(
        [app_for(server.url(PATH))], (), fetcher(trust, timeout_seconds=1.0), lock
    )
    [problem] = sources.errors
    assert cause in problem.message, problem.message
    assert "cannot be registered" in problem.message
    assert sources.documents == {}
    assert update_lock(lock.path, list(sources.documents.values())) == []
    assert not lock.path.exists()


def test_a_private_address_is_refused_before_any_request(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    publish_valid(server)
    private = TableResolver({HOST: [["10.0.0.5"]]})
    lock = LockFile(tmp_path / "reconciler.lock")
    sources = gather_sources([app_for(server.url(PATH))], (), fetcher(trust, private), lock)
    [problem] = sources.errors
    assert "private" in problem.message
    assert server.requests == []
    assert not lock.path.exists()


def test_a_valid_document_is_used_and_locked(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    publish_valid(server)
    url = server.url(PATH)
    lock = LockFile(tmp_path / "reconciler.lock")
    sources = gather_sources([app_for(url)], (), fetcher(trust), lock)
    assert sources.errors == [] and sources.unlocked == [url]
    assert update_lock(lock.path, list(sources.documents.values())) == [url]
    written = json.loads(lock.path.read_text())["documents"][url]
    assert written["sha256"] == sources.documents[url].sha256
    assert written["document"]["client_id"] == url


def key_document(server: DocumentServer, **fields: object) -> None:
    server.serve_json(
        PATH,
        client_document(
            server.url(PATH),
            token_endpoint_auth_method="private_key_jwt",
            jwks_uri=server.url("/jwks.json"),
            **fields,
        ),
    )


PUBLIC_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "kid": "k1",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}


def test_a_private_key_jwt_documents_keys_are_fetched_and_must_be_public(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    key_document(server)
    server.serve_json("/jwks.json", {"keys": [{**PUBLIC_KEY, "d": "private"}]})
    lock = LockFile(tmp_path / "reconciler.lock")
    refused = gather_sources([app_for(server.url(PATH))], (), fetcher(trust), lock)
    [problem] = refused.errors
    assert "$.jwks_uri" in problem.message and "$.keys[0].d" in problem.message
    assert refused.documents == {}

    server.serve_json("/jwks.json", {"keys": [PUBLIC_KEY]})
    accepted = gather_sources([app_for(server.url(PATH))], (), fetcher(trust), lock)
    assert accepted.errors == [] and list(accepted.documents) == [server.url(PATH)]
    assert "/jwks.json" in [r.path for r in server.requests]


def test_key_sets_are_fetched_once_per_jwks_uri(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    server.serve_json("/jwks.json", {"keys": [PUBLIC_KEY]})
    server.serve_json("/bad-jwks.json", {"keys": [{**PUBLIC_KEY, "d": "private"}]})
    urls = [server.url(f"/app-{index}.json") for index in range(6)]
    for index, url in enumerate(urls):
        jwks_uri = server.url("/bad-jwks.json" if index == 5 else "/jwks.json")
        server.serve_json(
            f"/app-{index}.json",
            client_document(url, token_endpoint_auth_method="private_key_jwt", jwks_uri=jwks_uri),
        )

    sources = gather_sources(
        [app_for(url) for url in urls], (), fetcher(trust, parallelism=4), LockFile(tmp_path / "l")
    )

    assert list(sources.documents) == urls[:5]
    [problem] = sources.errors
    assert urls[5] in problem.message and "$.keys[0].d" in problem.message
    key_set_requests = [seen.path for seen in server.requests if "jwks" in seen.path]
    assert sorted(key_set_requests) == ["/bad-jwks.json", "/jwks.json"]


def locked_then_moved(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path, moved: dict[str, object]
) -> tuple[Sources, str]:
    """The document locked as first fetched, then published again with ``moved`` fields."""
    url = server.url(PATH)
    first = client_document(url)
    server.serve_json(PATH, first)
    lock = LockFile(tmp_path / "reconciler.lock")
    before = gather_sources([app_for(url)], (), fetcher(trust), lock)
    update_lock(lock.path, list(before.documents.values()))
    server.serve_json(PATH, {**first, **moved})
    return gather_sources([app_for(url)], (url,), fetcher(trust), LockFile.load(lock.path)), url


def test_a_document_moved_since_its_lock_names_the_security_fields_it_changed(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    moved = {"redirect_uris": [f"https://{HOST}/elsewhere"], "client_name": "Docs 2"}
    sources, url = locked_then_moved(server, trust, tmp_path, moved)
    assert sources.documents[url].sensitive_changes == ("redirect_uris",)
    assert sources.unlocked == [url]
    assert sources.diagnostics == []


def test_an_unchanged_document_carries_no_security_changes(
    server: DocumentServer, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    sources, url = locked_then_moved(server, trust, tmp_path, {})
    assert sources.documents[url].sensitive_changes == ()
    assert sources.unlocked == [] and sources.diagnostics == []
