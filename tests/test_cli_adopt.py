"""adopt through the CLI: fifty apps made outside reconciler, of every type, with grants
and connections, adopted into one file; it validates and passes yamllint, the first plan
only adopts, and once applied a plan has no changes. Every refusal names the client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.registries.sqlite import seed_sqlite
from reconciler.tenant.engine import Tenant

OWNER = "team-a"
LEDGER = "https://ledger.dev.example.com/"
TYPES = [
    ("spa", ["authorization_code", "refresh_token"], "none"),
    ("native", ["authorization_code", "refresh_token"], "none"),
    ("regular_web", ["authorization_code", "refresh_token"], "client_secret_post"),
    ("non_interactive", ["client_credentials"], "client_secret_post"),
    ("regular_web", ["authorization_code", "implicit"], "client_secret_basic"),
]
LONG_DESCRIPTION = (
    "An app made in the Dashboard long ago, whose description runs past the eighty "
    "columns that yamllint allows"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def yamllint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """yamllint's default rules, warnings counted as errors (--strict)."""
    command = [sys.executable, "-m", "yamllint", "--strict", "-d", "default", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def client(number: int) -> dict[str, Any]:
    app_type, grant_types, method = TYPES[number % len(TYPES)]
    body: dict[str, Any] = {
        "client_id": f"Seeded{number:02d}".ljust(32, "0"),
        "name": f"Dashboard app {number % 25}",  # names repeat: keys must not
        "app_type": app_type,
        "grant_types": grant_types,
        "token_endpoint_auth_method": method,
        "oidc_conformant": number % 3 != 0,
    }
    if app_type != "non_interactive":
        body["callbacks"] = [f"https://app{number}.dev.example.com/callback"]
        body["allowed_logout_urls"] = [f"https://app{number}.dev.example.com/"]
    if number % 4 == 0:
        body["description"] = LONG_DESCRIPTION
        body["client_metadata"] = {"team": f"team-{number % 3}"}
    if number % 5 == 1:
        body["jwt_configuration"] = {"alg": "RS256", "lifetime_in_seconds": 600}
        body["cross_origin_authentication"] = True
    if number % 7 == 2:
        body["refresh_token"] = {"rotation_type": "rotating", "expiration_type": "expiring"}
    return body


def seed_document() -> dict[str, Any]:
    clients = [client(number) for number in range(50)]
    grants = [
        {"client_id": c["client_id"], "audience": LEDGER, "scope": ["read:entries"]}
        for c in clients
        if c["app_type"] == "non_interactive"
    ] + [
        {"client_id": c["client_id"], "audience": LEDGER, "scope": [], "subject_type": "user"}
        for c in clients[:10]
        if c["app_type"] == "spa"
    ]
    return {
        "resource_servers": [
            {"identifier": LEDGER, "scopes": [{"value": "read:entries"}, {"value": "write"}]}
        ],
        "clients": clients,
        "client_grants": grants,
        "connections": [
            {
                "name": "Username-Password-Authentication",
                "strategy": "auth0",
                "enabled_clients": [c["client_id"] for c in clients[::3]],
            }
        ],
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one app of its own, in a tenant where fifty more were made elsewhere."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
        "vars: {DOMAIN: dev.example.com}\n"
    )
    (root / "apps" / "worker.yaml").write_text(
        "apps:\n  worker:\n    name: Worker\n    type: m2m\n"
    )
    monkeypatch.chdir(root)
    assert run("apply", "--auto-approve", "--secrets-out", "secrets.json").exit_code == 0
    seed_sqlite(f"sqlite:{root / 'registry.db'}", seed_document())
    return root


def seeded_ids() -> list[str]:
    return [c["client_id"] for c in seed_document()["clients"]]


def test_fifty_apps_adopted_into_one_file_validate_lint_and_then_plan_no_changes(
    project: Path,
) -> None:
    adopted = run("adopt", *seeded_ids(), "--into", "apps/adopted.yaml")
    assert adopted.exit_code == 0, adopted.output
    path = project / "apps" / "adopted.yaml"
    apps = yaml.safe_load(path.read_text())["apps"]
    assert len(apps) == 50 and {body["client_id"] for body in apps.values()} == set(seeded_ids())
    assert "dashboard-app-0" in apps and "dashboard-app-0-2" in apps, "keys unique"
    text = path.read_text()
    assert "client_secret:" not in text and "reconciler" not in text, "no secrets, no stamps"
    assert "${DOMAIN}" in text and "dev.example.com" not in text, "variables kept"
    header = text.splitlines()[0].removeprefix("# yaml-language-server: $schema=")
    assert (path.parent / header).is_file(), "the schema reference resolves"
    linted = yamllint(path)
    assert linted.returncode == 0, linted.stdout

    validated = run("validate")
    assert validated.exit_code == 0, validated.output
    assert "0 errors" in validated.output
    first = run("plan", "--format", "json")
    changes = json.loads(first.stdout)["changes"]
    assert sorted(c["action"] for c in changes) == ["adopt"] * 50
    assert [c["diff"] for c in changes] == [[]] * 50, "only stamped: nothing else changes"
    assert run("apply", "--auto-approve").exit_code == 0
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_adopt_writes_only_what_differs_from_the_defaults_with_apis_and_connections(
    project: Path,
) -> None:
    ids = seeded_ids()
    assert run("adopt", ids[3], "--key", "old-worker", "--into", "apps/worker.yaml").exit_code == 0
    assert run("adopt", ids[1], "--into", "apps/worker.yaml").exit_code == 0
    text = (project / "apps" / "worker.yaml").read_text()
    assert text.startswith("apps:\n  worker:\n    name: Worker\n    type: m2m\n"), "kept"
    apps = yaml.safe_load(text)["apps"]
    assert apps["old-worker"] == {
        "client_id": ids[3],
        "name": "Dashboard app 3",
        "type": "m2m",
        "oidc_conformant": False,
        "apis": [{"audience": "https://ledger.${DOMAIN}/", "scopes": ["read:entries"]}],
        "connections": ["Username-Password-Authentication"],
    }
    assert apps["dashboard-app-1"] == {
        "client_id": ids[1],
        "name": "Dashboard app 1",
        "type": "native",
        "callbacks": ["https://app1.${DOMAIN}/callback"],
        "allowed_logout_urls": ["https://app1.${DOMAIN}/"],
        "cross_origin_authentication": True,
        "jwt_configuration": {"lifetime_in_seconds": 600},
    }


def test_adopt_refuses_each_client_it_cannot_adopt_naming_it(project: Path) -> None:
    tenant = Tenant(project / "registry.db")
    try:
        clients = list(tenant.all_clients())
    finally:
        tenant.close()
    [worker] = [c["client_id"] for c in clients if c["name"] == "Worker"]
    ids = seeded_ids()
    assert run("adopt", ids[0], "--into", "apps/one.yaml").exit_code == 0
    result = run("adopt", worker, ids[0], "NoSuchClient", ids[2], "--into", "apps/two.yaml")
    assert result.exit_code == 1
    assert f"{worker} is declared already, as worker (apps/worker.yaml:2:3)" in result.output
    assert f"{ids[0]} is declared already, as dashboard-app-0 (apps/one.yaml:" in result.output
    assert "NoSuchClient is not in the registry" in result.output
    assert ids[2] not in result.output, "an adoptable client is not refused"
    assert not (project / "apps" / "two.yaml").exists(), "nothing written"
    several = run("adopt", ids[1], ids[2], "--key", "one", "--into", "apps/two.yaml")
    assert several.exit_code == 1 and "--key names one app" in several.output


def test_adopt_refuses_the_global_client(project: Path) -> None:
    tenant = Tenant(project / "registry.db")
    try:
        [global_id] = [
            c["client_id"] for c in tenant.all_clients(include_global=True) if c.get("global")
        ]
    finally:
        tenant.close()
    result = run("adopt", global_id, "--into", "apps/global.yaml")
    assert result.exit_code == 1
    assert f"{global_id} is the tenant's global client" in result.output


def test_an_entry_that_would_not_validate_is_refused_and_nothing_is_written(
    project: Path,
) -> None:
    # The registry holds what the manifest rules refuse (a web app redirecting to plain
    # http on a public host): the file is checked before it is written, and left alone.
    tenant = Tenant(project / "registry.db")
    try:
        made = tenant.create_client(
            {
                "name": "Plain HTTP",
                "app_type": "regular_web",
                "callbacks": ["http://plain.example.com/callback"],
            }
        )
    finally:
        tenant.close()
    into = project / "apps" / "one.yaml"
    assert run("adopt", seeded_ids()[0], "--into", "apps/one.yaml").exit_code == 0
    before = into.read_bytes()
    result = run("adopt", str(made["client_id"]), "--into", "apps/one.yaml")
    assert result.exit_code == 1, result.output
    assert "would not validate, so it is left as it was" in result.output
    assert re.search(r"apps/one\.yaml:\d+:\d+: error\[redirect-uri\]", result.output)
    assert into.read_bytes() == before
    fresh = run("adopt", str(made["client_id"]), "--into", "apps/new.yaml")
    assert fresh.exit_code == 1 and not (project / "apps" / "new.yaml").exists()
