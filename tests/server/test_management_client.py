"""``reconciler serve``'s management client: the tenant domain it plays, the scopes it is
granted, and its private_key_jwt key (the Auth0 behaviours are rows of
``tests/fidelity/test_tokens.py``; these are serve's own settings)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reconciler.server import Server, serve
from reconciler.tenant.engine import Tenant


@pytest.fixture
def public_key(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "management.pub.pem"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def announced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """What ``serve ARGS`` prints before it would serve."""

    def interrupted(self: Server) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Server, "serve_forever", interrupted)
    runner = CliRunner(
        env={"RECONCILER_SERVE_CLIENT_ID": None, "RECONCILER_SERVE_CLIENT_SECRET": None}
    )
    return runner.invoke(serve, ["--port", "0", "--db", str(tmp_path / "r.db"), *args])


def test_the_tenant_domain_is_the_audience_it_announces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = announced(tmp_path, monkeypatch, "--tenant-domain", "tenant.eu.auth0.com")
    assert result.exit_code == 0, result.output
    assert "(audience https://tenant.eu.auth0.com/api/v2/)" in result.output


def test_a_public_key_replaces_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public_key: Path
) -> None:
    result = announced(tmp_path, monkeypatch, "--client-public-key", str(public_key))
    assert result.exit_code == 0, result.output
    assert "private_key_jwt" in result.output and "generated" not in result.output
    broken = tmp_path / "broken.pem"
    broken.write_text("not a key")
    refused = announced(tmp_path, monkeypatch, "--client-public-key", str(broken))
    assert refused.exit_code == 2 and "not a PEM public key" in refused.output
    both = announced(
        tmp_path, monkeypatch, "--client-public-key", str(public_key), "--client-secret", "s"
    )
    assert both.exit_code == 2 and "give one of them" in both.output


def test_the_management_client_has_a_secret_or_an_rsa_key(tmp_path: Path, public_key: Path) -> None:
    with Tenant(tmp_path / "t.db") as tenant:
        with pytest.raises(ValueError, match="a client_secret or a public key"):
            Server(tenant, client_id="m", client_secret="s", client_public_key=b"pem")
        with pytest.raises(ValueError, match="a client_secret or a public key"):
            Server(tenant, client_id="m")
        elliptic = ec.generate_private_key(ec.SECP256R1()).public_key()
        pem = elliptic.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(ValueError, match="RSA"):
            Server(tenant, client_id="m", client_public_key=pem)
        with pytest.raises(ValueError, match="RS256"):
            Server(
                tenant,
                client_id="m",
                client_public_key=public_key.read_bytes(),
                client_key_alg="HS256",
            )


def test_the_management_client_is_granted_the_scopes_it_is_given(tmp_path: Path) -> None:
    with Tenant(tmp_path / "t.db") as tenant:
        server = Server(
            tenant,
            client_id="m",
            client_secret="s",
            management_scopes=("read:clients", "read:client_credentials"),
        )
        with server:
            answer = httpx.post(
                f"{server.base_url}/oauth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": "m",
                    "client_secret": "s",
                    "audience": f"{server.base_url}/api/v2/",
                },
            ).json()
            with_token = {"Authorization": f"Bearer {answer['access_token']}"}
            refused = httpx.post(
                f"{server.base_url}/api/v2/clients", json={"name": "n"}, headers=with_token
            )
    assert answer["scope"] == "read:clients read:client_credentials"
    assert refused.status_code == 403


def test_token_endpoint_faults_answer_in_oauths_shape(tmp_path: Path) -> None:
    with (
        Tenant(tmp_path / "t.db") as tenant,
        Server(tenant, client_id="m", client_secret="s") as server,
    ):
        base = server.base_url
        for fault in (
            {"status": 429, "retry_after": 7},
            {"status": 429, "retry_after": None},
            {"status": 503},
        ):
            httpx.post(
                f"{base}/__control/inject", json={**fault, "path_prefix": "/oauth/token"}
            ).raise_for_status()
            answer = httpx.post(f"{base}/oauth/token", json={})
            assert answer.status_code == fault["status"]
            assert set(answer.json()) == {"error", "error_description"}
            expected = None if fault.get("retry_after") is None else str(fault["retry_after"])
            assert answer.headers.get("retry-after") == expected
