"""Readers we did not write hold what ``reconciler`` applied: apps that set the login,
native, organization, request-security and token fields are applied through ``auth0://``
to ``reconciler serve`` over TLS, then read back by Auth0's Python SDK (auth0-python v6,
whose typed models refuse values outside Auth0's enums) and by ``a0deploy export``
(auth0-deploy-cli, pinned in tests/peer); a plan then has nothing to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.cli import cli
from tests.auth0_sdk import TlsServe
from tests.deploy_cli import export_clients

OWNER = "platform-team/readback"
REQUEST_KEY = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode("ascii")
)
FINGERPRINT = ":".join(["3A"] * 32)
APPS: dict[str, dict[str, Any]] = {
    "pay": {
        "name": "Pay Mobile",
        "type": "native",
        "callbacks": ["com.example.pay://callback"],
        "mobile": {
            "ios": {"team_id": "ABCDE12345", "app_bundle_identifier": "com.example.pay"},
            "android": {
                "app_package_name": "com.example.pay",
                "sha256_cert_fingerprints": [FINGERPRINT],
            },
        },
        "native_social_login": {"apple": {"enabled": True}, "google": {"enabled": False}},
        "refresh_token": {
            "rotation_type": "rotating",
            "expiration_type": "expiring",
            "policies": [{"audience": "https://billing.example.com/", "scope": ["read:invoices"]}],
        },
        "sso_disabled": True,
    },
    "portal": {
        "name": "Customer Portal",
        "type": "regular_web",
        "callbacks": ["https://portal.example.com/callback"],
        "oidc_logout": {
            "backchannel_logout_urls": ["https://portal.example.com/backchannel-logout"],
            "backchannel_logout_initiators": {
                "mode": "custom",
                "selected_initiators": ["rp-logout", "idp-logout", "password-changed"],
            },
            "backchannel_logout_session_metadata": {"include": True},
        },
        "organization_usage": "require",
        "organization_require_behavior": "pre_login_prompt",
        "organization_discovery_methods": ["organization_name", "email"],
        "require_pushed_authorization_requests": True,
        "require_proof_of_possession": True,
        "compliance_level": "none",
        "cross_origin_authentication": False,
        "allowed_clients": ["delegatingClient000000000000000a"],
        "token_exchange": {"allow_any_profile_of_type": ["custom_authentication"]},
        "signed_request_object": {
            "required": True,
            "credentials": [{"name": "jar-2026", "pem": REQUEST_KEY, "alg": "PS256"}],
        },
    },
    "worker": {
        "name": "Settlement Worker",
        "type": "m2m",
        "organization_usage": "allow",
        "default_organization": {
            "organization_id": "org_X6hYdaBImySituVC",
            "flows": ["client_credentials"],
        },
        "sso_disabled": False,
    },
}
#: What is not a client field of the same name, or is compared elsewhere.
NOT_COMPARED = {"name", "type", "callbacks"}
#: Keys read back by id only (their public key is never answered).
BY_ID = "signed_request_object"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as running:
        yield running


@pytest.fixture
def applied(tmp_path: Path, served: TlsServe, monkeypatch: pytest.MonkeyPatch) -> None:
    """APPS applied through auth0:// (the CLI in this process, trusting serve's CA)."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": APPS}, indent=1))
    monkeypatch.chdir(root)
    for name, value in {
        "AUTH0_CLIENT_ID": served.client_id,
        "AUTH0_CLIENT_SECRET": served.client_secret,
        "AUTH0_BASE_URL": served.base_url,
        "SSL_CERT_FILE": served.ca_file,
        "REQUESTS_CA_BUNDLE": served.ca_file,
        "NO_COLOR": "1",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    done = runner.invoke(cli, ["apply", "--auto-approve", "--secrets-out", "s.json"])
    assert done.exit_code == 0, done.output
    planned = runner.invoke(cli, ["plan", "--format", "json"], catch_exceptions=False)
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["changes"] == []


def holds(declared: Any, held: Any) -> bool:
    """Whether ``held`` has what ``declared`` says: the members it names, arrays as sets."""
    if isinstance(declared, dict):
        return isinstance(held, dict) and all(holds(v, held.get(k)) for k, v in declared.items())
    if isinstance(declared, list):
        return isinstance(held, list) and sorted(map(_text, declared)) == sorted(map(_text, held))
    return bool(declared == held)


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def assert_holds_every_declared_field(clients: list[dict[str, Any]], reader: str) -> None:
    by_name = {client.get("name"): client for client in clients}
    for key, app in APPS.items():
        held = by_name.get(app["name"])
        assert held is not None, f"{reader} does not list {key}"
        declared = {name: value for name, value in app.items() if name not in NOT_COMPARED}
        if BY_ID in declared:
            keys = declared[BY_ID]["credentials"]
            declared[BY_ID] = {k: v for k, v in declared[BY_ID].items() if k != "credentials"}
            references = held.get(BY_ID, {}).get("credentials")
            assert isinstance(references, list) and len(references) == len(keys), reader
            assert all(isinstance(r, dict) and r.get("id") for r in references), reader
        wrong = {
            name: (value, held.get(name))
            for name, value in declared.items()
            if not holds(value, held.get(name))
        }
        assert wrong == {}, f"{reader} reads {key} otherwise"


@pytest.mark.usefixtures("applied")
def test_auth0_python_reads_back_every_field_reconciler_applied(served: TlsServe) -> None:
    reader = served.reader()
    try:
        assert sorted(reader.apps_by_key(OWNER)) == sorted(APPS)
        assert_holds_every_declared_field(reader.clients(), "auth0-python")
    finally:
        reader.close()


@pytest.mark.usefixtures("applied")
def test_a0deploy_export_reads_back_every_field_reconciler_applied(
    served: TlsServe, tmp_path: Path
) -> None:
    exported = export_clients(served, tmp_path / "a0deploy")
    assert_holds_every_declared_field(exported, "a0deploy export")
