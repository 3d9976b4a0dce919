"""The Management API scopes grants and connections need, through ``auth0://`` against
``reconciler serve``: a token made before reconciler managed them still plans and applies
apps that do not name any, and a manifest that names them gets an error that says which
scope is missing. Auth0 lists client grants only with read:client_grants and connections
with read:connections (https://auth0.com/docs/api/management/v2/client-grants/get-client-grants,
https://auth0.com/docs/api/management/v2/connections/get-connections)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.auth0_sdk import TlsServe

CLIENTS_ONLY = "read:clients create:clients update:clients delete:clients"
LEDGER = "https://ledger.example.com/"


def write_project(root: Path, app: dict[str, object]) -> None:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(
        "owner: scopes-test\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": {"site": app}}))


SITE = {
    "name": "Site",
    "type": "spa",
    "callbacks": ["https://site.example.com/callback"],
    "token_endpoint_auth_method": "none",
}


def run(served: TlsServe, root: Path, token: str, *args: str) -> tuple[int, str]:
    process = served.reconciler(root, *args, env={"AUTH0_TOKEN": token})
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def test_apps_without_grants_plan_and_apply_with_a_clients_only_token(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_project(root, SITE)
    with TlsServe(tmp_path / "tenant.db") as served:
        token = served.token(CLIENTS_ONLY)
        code, output = run(served, root, token, "apply", "--auto-approve", "--no-lock")
        assert code == 0, output
        code, output = run(served, root, token, "plan", "--detailed-exitcode")
        assert code == 0, output


def test_a_manifest_naming_connections_needs_the_scope_and_is_told_which(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_project(root, {**SITE, "connections": ["db"]})
    with TlsServe(tmp_path / "tenant.db") as served:
        code, output = run(served, root, served.token(CLIENTS_ONLY), "plan")
    assert code == 1, output
    assert "read:client_grants" in output, output
