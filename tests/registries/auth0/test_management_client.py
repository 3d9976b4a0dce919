"""The management client end to end, through ``auth0://`` against ``reconciler serve``:
authenticating with private_key_jwt (a key file, no secret anywhere), a custom domain
named as the registry (refused, with the fix said), and the token endpoint's 429s and
5xx, which are waited out and retried as the API's are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.cli import cli
from reconciler.server import Server
from reconciler.tenant.engine import Tenant

MANAGEMENT_ID = "keyedManagementClient00000000aa"
APPS = {
    "apps": {
        "site": {
            "name": "Site",
            "type": "spa",
            "callbacks": ["https://site.example.com/callback"],
            "token_endpoint_auth_method": "none",
        }
    }
}


@pytest.fixture
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text("owner: keyed\nmanifests: [apps]\n")
    (root / "apps" / "apps.yaml").write_text(json.dumps(APPS))
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def keyed(tmp_path: Path, key: rsa.RSAPrivateKey) -> Iterator[str]:
    """serve whose management client authenticates with private_key_jwt, as tenant.test."""
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with Tenant(tmp_path / "served.db") as tenant:
        server = Server(
            tenant, client_id=MANAGEMENT_ID, client_public_key=public, tenant_domain="tenant.test"
        )
        base = server.start()
        try:
            yield base
        finally:
            server.stop()


def key_file(tmp_path: Path, key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "management-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def test_plan_and_apply_with_a_private_key_and_no_secret(
    project: Path, keyed: str, key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    env = {
        "AUTH0_CLIENT_ID": MANAGEMENT_ID,
        "AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file(tmp_path, key)),
    }
    registry = ["--registry", "auth0://tenant.test", "--auth0-base-url", keyed]
    applied = run(env, *registry, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = run(env, *registry, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_another_key_is_refused_with_what_to_check(
    project: Path, keyed: str, tmp_path: Path
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env = {
        "AUTH0_CLIENT_ID": MANAGEMENT_ID,
        "AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file(tmp_path, other)),
    }
    planned = run(env, "--registry", "auth0://tenant.test", "--auth0-base-url", keyed, "plan")
    assert planned.exit_code == 1
    assert "(401)" in planned.output and "client assertion key" in planned.output


def test_a_custom_domain_named_as_the_registry_is_refused_with_the_fix(
    project: Path, keyed: str, key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    # serve plays tenant.test, reached at its loopback address: a custom domain. Naming
    # that address as the registry asks for its audience, which Auth0 refuses.
    env = {
        "AUTH0_CLIENT_ID": MANAGEMENT_ID,
        "AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file(tmp_path, key)),
    }
    custom = keyed.removeprefix("http://")
    planned = run(env, "--registry", f"auth0://{custom}", "--auth0-base-url", keyed, "plan")
    assert planned.exit_code == 1
    assert "Service not enabled within domain" in planned.output
    assert "AUTH0_AUDIENCE" in planned.output
    named = run(
        env,
        "--registry",
        f"auth0://{custom}",
        "--auth0-base-url",
        keyed,
        "--auth0-audience",
        "https://tenant.test/api/v2/",
        "plan",
    )
    assert named.exit_code == 0, named.output


@pytest.mark.slow  # waits out the token endpoint's Retry-After and backoffs
@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "count": 2, "retry_after": 1},
        {"status": 429, "count": 2, "retry_after": None},
        {"status": 503, "count": 2},
    ],
)
def test_token_endpoint_faults_are_waited_out(
    project: Path, keyed: str, key: rsa.RSAPrivateKey, tmp_path: Path, fault: dict[str, object]
) -> None:
    httpx.post(
        f"{keyed}/__control/inject", json={**fault, "path_prefix": "/oauth/token"}
    ).raise_for_status()
    env = {
        "AUTH0_CLIENT_ID": MANAGEMENT_ID,
        "AUTH0_CLIENT_ASSERTION_KEY_FILE": str(key_file(tmp_path, key)),
    }
    planned = run(env, "--registry", "auth0://tenant.test", "--auth0-base-url", keyed, "plan")
    assert planned.exit_code == 0, planned.output
    log = httpx.get(f"{keyed}/__control/requests").json()["requests"]
    answers = [entry["status"] for entry in log if entry["path"] == "/oauth/token"]
    assert answers == [fault["status"], fault["status"], 200]
