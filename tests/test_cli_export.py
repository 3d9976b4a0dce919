"""Export through the CLI from a tenant that holds APIs, client grants and connections
made outside reconciler: the exported project validates, its first plan only adopts
(no field, grant or connection changes), and once applied a plan has no changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.core.model import Grant, LoginConnection
from reconciler.manifests.export import THIRD_PARTY_FILE
from reconciler.registries.sqlite import open_sqlite
from reconciler.tenant.engine import Tenant

OWNER = "team-a"
LEDGER = "https://ledger.example.com/"
PAYROLL = "https://payroll.example.com/"
LEGACY = "LegacyWorker00000000000000000000"
PORTAL = "PortalSpa000000000000000000000000"
WORKER_MANIFEST = """\
apps:
  billing-worker:
    name: Billing worker
    type: m2m
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def seed_document(worker: str) -> dict[str, Any]:
    return {
        "resource_servers": [
            {
                "identifier": LEDGER,
                "scopes": [{"value": "read:entries"}, {"value": "write:entries"}],
            },
            {"identifier": PAYROLL, "scopes": [{"value": "read:pay"}]},
        ],
        "clients": [
            {
                "client_id": LEGACY,
                "name": "Legacy worker",
                "app_type": "non_interactive",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_post",
            },
            {
                "client_id": PORTAL,
                "name": "Portal",
                "app_type": "spa",
                "callbacks": ["https://portal.example.com/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            },
        ],
        "client_grants": [
            {"client_id": worker, "audience": LEDGER, "scope": ["write:entries", "read:entries"]},
            {
                "client_id": LEGACY,
                "audience": PAYROLL,
                "scope": ["read:pay"],
                "organization_usage": "allow",
                "allow_any_organization": True,
            },
            {"client_id": PORTAL, "audience": LEDGER, "scope": [], "subject_type": "user"},
            {"default_for": "third_party_clients", "audience": LEDGER, "scope": ["read:entries"]},
        ],
        "connections": [
            {
                "name": "Username-Password-Authentication",
                "strategy": "auth0",
                "enabled_clients": [PORTAL, LEGACY],
            },
            {"name": "google-oauth2", "strategy": "google-oauth2", "enabled_clients": [PORTAL]},
            {"name": "github", "strategy": "github"},
        ],
    }


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose worker reconciler made, in a tenant whose APIs, grants, connections
    and two other apps were made elsewhere; exported to ``exported/``."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
    )
    (root / "apps" / "worker.yaml").write_text(WORKER_MANIFEST)
    monkeypatch.chdir(root)
    created = run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert created.exit_code == 0, created.output
    tenant = Tenant(root / "registry.db")
    try:
        [worker] = [c["client_id"] for c in tenant.all_clients()]
    finally:
        tenant.close()
    (root / "seed.json").write_text(json.dumps(seed_document(str(worker))))
    assert run("registry", "seed", "seed.json").exit_code == 0
    result = run("export", "-o", "exported")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output, "nothing skipped, nothing the lint rules refuse"
    return root / "exported"


def held_access(path: Path) -> tuple[list[Grant], list[LoginConnection]]:
    registry = open_sqlite(f"sqlite:{path}")
    try:
        return sorted(registry.list_grants(), key=lambda g: g.id), registry.list_connections()
    finally:
        registry.close()


def declared(directory: Path) -> dict[str, dict[str, Any]]:
    apps: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        apps.update(yaml.safe_load(path.read_text())["apps"])
    return apps


def test_export_writes_each_apps_grants_and_connections(exported: Path) -> None:
    apps = declared(exported)
    assert apps["billing-worker"]["apis"] == [
        {"audience": LEDGER, "scopes": ["read:entries", "write:entries"]}
    ]
    assert "connections" not in apps["billing-worker"]
    [legacy] = [body for body in apps.values() if body.get("client_id") == LEGACY]
    assert legacy["apis"] == [
        {
            "audience": PAYROLL,
            "scopes": ["read:pay"],
            "organization_usage": "allow",
            "allow_any_organization": True,
        }
    ]
    assert legacy["connections"] == ["Username-Password-Authentication"]
    [portal] = [body for body in apps.values() if body.get("client_id") == PORTAL]
    assert portal["apis"] == [{"audience": LEDGER, "scopes": [], "subject_type": "user"}]
    assert portal["connections"] == ["Username-Password-Authentication", "google-oauth2"]
    third_party = yaml.safe_load((exported / THIRD_PARTY_FILE).read_text())
    assert third_party == {
        "apps": {},
        "third_party_apis": [{"audience": LEDGER, "scopes": ["read:entries"]}],
    }


def test_exported_project_validates_adopts_without_changes_then_plans_none(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    (other / "apps").mkdir(parents=True)
    (other / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: sqlite:{exported.parent / 'registry.db'}\n"
    )
    for path in exported.iterdir():
        (other / "apps" / path.name).write_text(path.read_text())
    monkeypatch.chdir(other)
    validated = run("validate")
    assert validated.exit_code == 0, validated.output
    assert "0 errors, 0 warnings in 4 files (3 apps)" in validated.output

    first = run("plan", "--format", "json")
    assert first.exit_code == 0, first.output
    changes = json.loads(first.stdout)["changes"]
    assert sorted((c["action"], c["client_id"]) for c in changes) == [
        ("adopt", LEGACY),
        ("adopt", PORTAL),
    ]
    assert [c["diff"] for c in changes] == [[], []], "only stamped: nothing else changes"

    held = held_access(exported.parent / "registry.db")
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert held_access(exported.parent / "registry.db") == held, "no grant or link rewritten"
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_export_into_a_folder_with_manifests_refuses_naming_the_clash(exported: Path) -> None:
    root = exported.parent
    before = (root / "apps" / "worker.yaml").read_text()
    result = run("export", "-o", "apps")
    assert result.exit_code == 1
    assert "apps/ holds 1 manifest(s): apps/worker.yaml" in result.output
    assert "is declared already as billing-worker (apps/worker.yaml:2:3)" in result.output
    assert sorted(p.name for p in (root / "apps").iterdir()) == ["worker.yaml"]
    assert (root / "apps" / "worker.yaml").read_text() == before


def test_export_merge_adds_only_undeclared_apps_then_plan_has_no_changes(exported: Path) -> None:
    root = exported.parent
    merged = run("export", "-o", "apps", "--merge")
    assert merged.exit_code == 0, merged.output
    assert "Left out 1 apps declared already." in merged.output
    assert "Exported 2 apps to apps/" in merged.output
    assert run("validate").exit_code == 0
    assert run("apply", "--auto-approve").exit_code == 0
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output
    written = [str(p) for p in (root / "apps").glob("*.yaml") if p.name != "worker.yaml"]
    assert len(written) == 3  # two apps, and the tenant's grants for third-party apps
    linted = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-d", "default", *written],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout


def test_export_output_passes_yamllint_and_its_schema_reference_resolves(exported: Path) -> None:
    for path in exported.glob("*.yaml"):
        header = path.read_text().splitlines()[0]
        assert (path.parent / header.removeprefix("# yaml-language-server: $schema=")).is_file()
    linted = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-d", "default", str(exported)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout


def test_export_keeps_the_variables_the_settings_define(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vars"
    root.mkdir()
    (root / "reconciler.yaml").write_text(
        "owner: team-a\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
        "environments:\n  dev:\n    vars: {DOMAIN: dev.example.com, "
        "PORTAL: 'https://portal.dev.example.com'}\n"
    )
    monkeypatch.chdir(root)
    portal = {
        "client_id": PORTAL,
        "name": "Portal",
        "app_type": "spa",
        "callbacks": ["https://portal.dev.example.com/cb", "https://pay.dev.example.com/cb"],
        "allowed_logout_urls": ["https://devexample.com/${literal}"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    }
    (root / "seed.json").write_text(json.dumps({"clients": [portal]}))
    assert run("--env", "dev", "registry", "seed", "seed.json").exit_code == 0
    result = run("--env", "dev", "export", "-o", "apps")
    assert result.exit_code == 0, result.output
    [path] = (root / "apps").glob("*.yaml")
    [body] = yaml.safe_load(path.read_text())["apps"].values()
    assert body["callbacks"] == ["${PORTAL}/cb", "https://pay.${DOMAIN}/cb"]
    assert body["allowed_logout_urls"] == ["https://devexample.com/$${literal}"]
    assert run("--env", "dev", "validate").exit_code == 0
    assert run("--env", "dev", "apply", "--auto-approve").exit_code == 0
    assert run("--env", "dev", "plan", "--detailed-exitcode").exit_code == 0
