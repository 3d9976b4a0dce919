"""A CIMD app against node-oidc-provider: validated and locked, nothing registered, and the
server accepts the client on its own by fetching the document (a pushed authorization
request with the document's URL as client_id)."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from click.testing import CliRunner, Result

import reconciler.cli
import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from tests.cimd_server import HOST, DocumentServer, known_hosts
from tests.peers import oidc_provider

PATH = "/oauth/client.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(reconciler.cli.cli, list(args), catch_exceptions=False)


@pytest.fixture
def cimd_issuer(server: DocumentServer, ca: trustme.CA, tmp_path: Path) -> Iterator[str]:
    """A peer that fetches https://docs.test.example:PORT/... from the document server."""
    authority = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(authority))
    origin = f"https://{HOST}:{server.port}"
    fetch_map = {origin: f"https://127.0.0.1:{server.port}"}
    environment = {"CIMD_FETCH_MAP": json.dumps(fetch_map), "NODE_EXTRA_CA_CERTS": str(authority)}
    with oidc_provider(environment) as running:
        yield running


@pytest.fixture
def project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: DocumentServer,
    trust: ssl.SSLContext,
    cimd_issuer: str,
) -> Path:
    def fetcher(policy: CimdPolicy) -> CimdFetcher:
        return CimdFetcher(policy, resolver=known_hosts(), ssl_context=trust)

    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", fetcher)
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    monkeypatch.chdir(root)
    (root / "reconciler.yaml").write_text(
        f"owner: team\nmanifests: [apps]\nregistry: dcr+{cimd_issuer}\n"
        "cimd: {insecure_allow_loopback_for_tests: true}\n"
    )
    (root / "apps" / "partner.yaml").write_text(
        f"apps:\n  partner:\n    cimd: {server.url(PATH)}\n    type: regular_web\n"
    )
    return root


def state_entry(project: Path, issuer: str) -> dict[str, Any]:
    state = json.loads((project / ".reconciler" / "dcr-state.json").read_text())
    entry: dict[str, Any] = state["issuers"][issuer]["apps"]["partner"]
    return entry


def test_nothing_is_registered_and_the_server_uses_the_document(
    project: Path, server: DocumentServer, cimd_issuer: str
) -> None:
    url = server.serve_document(PATH, client_name="Partner")
    [create] = json.loads(run("plan", "--format", "json").stdout)["changes"]
    assert create["notes"] == [
        f"nothing is registered: {cimd_issuer} fetches the metadata document itself"
    ]
    applied = run("apply", "--auto-approve", "--first-run")
    assert applied.exit_code == 0, applied.output
    assert run("plan", "--detailed-exitcode").exit_code == 0
    assert list(json.loads((project / "reconciler.lock").read_text())["documents"]) == [url]
    entry = state_entry(project, cimd_issuer)
    assert entry["cimd"] == url and entry["client_id"] == url
    assert entry["registration_access_token"] is None
    assert entry["document_fields"]["name"] == "Partner"

    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    pushed = httpx.post(
        f"{cimd_issuer}/request",
        data={
            "client_id": url,
            "response_type": "code",
            "redirect_uri": f"https://{HOST}/callback",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "scope": "openid",
        },
    )
    assert pushed.status_code == 201, pushed.text

    server.serve_document(PATH, client_name="Partner, renamed")
    planned = json.loads(run("plan", "--format", "json").stdout)
    [change] = planned["changes"]
    assert change["action"] == "refresh"
    assert "nothing is registered" in change["notes"][0]
    assert run("apply", "--auto-approve").exit_code == 0
    assert state_entry(project, cimd_issuer)["document_fields"]["name"] == "Partner, renamed"
    assert run("plan", "--detailed-exitcode").exit_code == 0
