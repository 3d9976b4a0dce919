"""``reconciler pull`` on a copy of the shipped examples: drift made through ``reconciler
serve`` (the Management API, as the Dashboard makes it) comes back into the manifests as
edits of exactly the drifted lines; then plan has nothing to do, and pull again nothing.
"""

from __future__ import annotations

import difflib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cli import cli
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe
from tests.helpers import copy_examples

SCOPES = (
    "read:clients update:clients read:client_grants update:client_grants "
    "read:connections update:connections"
)


def offline_fetcher(policy: CimdPolicy) -> CimdFetcher:
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return CimdFetcher(policy, resolver=resolve)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def manifests(root: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((root / "apps").glob("*.yaml"))}


def changed_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """Per file, the lines removed (-) and added (+), as ``git diff`` shows them."""
    found = {}
    for name in before:
        diff = difflib.unified_diff(before[name].splitlines(), after[name].splitlines(), n=0)
        lines = [line for line in diff if line[:1] in "-+" and line[:3] not in ("---", "+++")]
        if lines:
            found[name] = lines
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, seeded and applied to the embedded registry of the dev environment."""
    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", offline_fetcher)
    monkeypatch.setenv("NO_COLOR", "1")
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    assert run("registry", "seed", "registry-seed.json").exit_code == 0
    applied = run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert applied.exit_code == 0, applied.output
    return root


@pytest.fixture
def dashboard(project: Path) -> Iterator[Dashboard]:
    """``reconciler serve`` on the project's registry, for edits made elsewhere."""
    with TlsServe(project / ".reconciler" / "registry.db") as served:
        with Dashboard(served) as editing:
            yield editing


class Dashboard:
    """Edits through the Management API, as someone in the Auth0 Dashboard makes them."""

    def __init__(self, served: TlsServe) -> None:
        self.served = served
        self.http = served.http()
        self.http.headers["Authorization"] = f"Bearer {served.token(SCOPES)}"

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def client(self, key: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.served.base_url}/api/v2/clients", params={"per_page": 100})
        answer.raise_for_status()
        [found] = [
            client
            for client in answer.json()
            if (client.get("client_metadata") or {}).get("reconciler_key") == key
        ]
        return dict(found)

    def edit(self, key: str, **fields: Any) -> None:
        client_id = self.client(key)["client_id"]
        url = f"{self.served.base_url}/api/v2/clients/{client_id}"
        self.http.patch(url, json=fields).raise_for_status()

    def grant_scopes(self, key: str, audience: str, scopes: list[str]) -> None:
        client_id = self.client(key)["client_id"]
        base = f"{self.served.base_url}/api/v2/client-grants"
        answer = self.http.get(base, params={"client_id": client_id, "audience": audience})
        answer.raise_for_status()
        [grant] = answer.json()
        self.http.patch(f"{base}/{grant['id']}", json={"scope": scopes}).raise_for_status()

    def disable_connection(self, key: str, name: str) -> None:
        client_id = self.client(key)["client_id"]
        base = f"{self.served.base_url}/api/v2/connections"
        answer = self.http.get(base, params={"name": name})
        answer.raise_for_status()
        [connection] = answer.json()
        change = [{"client_id": client_id, "status": False}]
        self.http.patch(f"{base}/{connection['id']}/clients", json=change).raise_for_status()


def test_drift_comes_back_as_edits_of_exactly_the_drifted_lines(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    callbacks = dashboard.client("payments-dashboard")["callbacks"]
    dashboard.edit(
        "payments-dashboard",
        callbacks=[*callbacks, "https://pay.dev.example.com/callback2"],
        description="Edited in the Dashboard",
    )
    dashboard.edit("legacy-portal", grant_types=["authorization_code", "refresh_token"])
    dashboard.grant_scopes(
        "payments-settlement-worker", "https://ledger.example.com/", ["read:entries"]
    )
    drifted = run("plan", "--detailed-exitcode")
    assert drifted.exit_code == 2 and "drift" in drifted.output

    pulled = run("pull")
    assert pulled.exit_code == 0, pulled.output
    assert changed_lines(before, manifests(project)) == {
        "payments.yaml": [
            "-    description: Single-page dashboard for the payments team.",
            "+    description: Edited in the Dashboard",
            '-    callbacks: ["https://pay.${DOMAIN}/callback"]',
            '+    callbacks: ["https://pay.${DOMAIN}/callback", "https://pay.dev.example.com/callback2"]',
            "-        scopes: [read:entries, write:entries]",
            "+        scopes: [read:entries]",
        ],
        "web.yaml": [
            "-    grant_types: [authorization_code]",
            "+    grant_types: [authorization_code, refresh_token]",
        ],
    }
    assert "payments.yaml: pulled payments-dashboard.callbacks" in pulled.output

    planned = run("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    after = manifests(project)
    again = run("pull")
    assert again.exit_code == 0, again.output
    assert "Nothing to pull" in again.output
    assert manifests(project) == after


def test_a_connection_disabled_elsewhere_leaves_the_list(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    dashboard.disable_connection("customer-portal", "google-oauth2")
    assert run("pull").exit_code == 0
    assert changed_lines(before, manifests(project)) == {
        "web.yaml": [
            "-    connections: [Username-Password-Authentication, google-oauth2]",
            "+    connections: [Username-Password-Authentication]",
        ]
    }
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_dry_run_prints_the_diff_and_writes_nothing(project: Path, dashboard: Dashboard) -> None:
    before = manifests(project)
    dashboard.edit("mobile-wallet", refresh_token={"rotation_type": "non-rotating"})
    result = run("pull", "--dry-run")
    assert result.exit_code == 2
    assert result.stdout == (
        "--- a/apps/mobile.yaml\n"
        "+++ b/apps/mobile.yaml\n"
        "@@ -11,6 +11,6 @@\n"
        "     token_endpoint_auth_method: none\n"
        "     oidc_conformant: true\n"
        "     refresh_token:\n"
        "-      rotation_type: rotating\n"
        "+      rotation_type: non-rotating\n"
        "       expiration_type: expiring\n"
        "     metadata: {team: mobile}\n"
    )
    assert manifests(project) == before


def test_a_variable_that_no_longer_matches_is_reported_never_replaced(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    dashboard.edit("customer-portal", initiate_login_uri="https://elsewhere.example.com/login")
    dashboard.edit("customer-portal", description="Edited too")
    result = run("pull")
    assert result.exit_code == 2
    assert (
        "apps/web.yaml:9:25: warning[not-pulled]: customer-portal: initiate_login_uri differs "
        "in the registry ('https://elsewhere.example.com/login'), but the manifest writes "
        "'${PORTAL_ORIGIN}/login' with variables (PORTAL_ORIGIN = "
        "'https://portal.dev.example.com' in environment 'dev')"
    ) in result.stderr
    assert changed_lines(before, manifests(project)) == {
        "web.yaml": [
            "-    description: Server-rendered portal where customers manage their account.",
            "+    description: Edited too",
        ]
    }


def test_a_field_changed_in_the_manifest_as_well_keeps_the_manifest(
    project: Path, dashboard: Dashboard
) -> None:
    dashboard.edit("ledger-sync", description="Edited in the Dashboard")
    path = project / "apps" / "ledger.yaml"
    text = path.read_text().replace(
        "Pushes ledger entries to the accounting system.", "Pushes entries."
    )
    path.write_text(text)
    result = run("pull")
    assert result.exit_code == 2
    assert "ledger-sync: description was changed in the manifest and elsewhere" in result.stderr
    assert path.read_text() == text


def test_target_limits_what_is_pulled(project: Path, dashboard: Dashboard) -> None:
    dashboard.edit("ledger-sync", description="One")
    dashboard.edit("legacy-portal", name="Two")
    result = run("pull", "--target", "legacy-*")
    assert result.exit_code == 0, result.output
    assert "description: Pushes ledger entries" in (project / "apps" / "ledger.yaml").read_text()
    assert "    name: Two\n" in (project / "apps" / "web.yaml").read_text()


def test_secrets_are_never_written(project: Path, dashboard: Dashboard) -> None:
    dashboard.edit("customer-portal", description="x")
    result = run("pull")
    secrets = json.loads((project / "secrets.json").read_text())
    everything = result.output + "".join(manifests(project).values())
    for entry in secrets.values():
        assert entry["client_secret"] not in everything


def test_a_registry_value_validate_refuses_is_not_pulled(project: Path) -> None:
    tenant = Tenant(project / ".reconciler" / "registry.db")
    try:
        [client] = [
            c
            for c in tenant.all_clients()
            if (c.get("client_metadata") or {}).get("reconciler_key") == "payments-dashboard"
        ]
        tenant.patch_client(
            client["client_id"], {"grant_types": ["authorization_code", "implicit"]}
        )
    finally:
        tenant.close()
    before = manifests(project)
    result = run("pull")
    assert result.exit_code == 2
    assert "the registry holds what validate refuses" in result.stderr
    assert manifests(project) == before


def test_nothing_to_pull_exits_0(project: Path) -> None:
    result = run("pull")
    assert result.exit_code == 0
    assert "Nothing to pull" in result.output
