"""Grants and connection links through the command line, on the embedded registry: created
with their app in one run, scopes updated in place, drift shown as drift, removed with the
manifest entry, and never touched on apps the manifests do not manage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.core.model import ApiGrant, Grant
from reconciler.registries.clients import ClientsRegistry
from reconciler.registries.sqlite import open_sqlite

LEDGER = "https://ledger.example.com/"
REPORTS = "https://reports.example.com/"
SEED = {
    "resource_servers": [
        {
            "identifier": LEDGER,
            "scopes": [{"value": v} for v in ("read:entries", "write:entries", "admin")],
        },
        {"identifier": REPORTS, "scopes": [{"value": "read:reports"}]},
    ],
    "connections": [
        {"name": "db", "strategy": "auth0"},
        {"name": "google-oauth2", "strategy": "google-oauth2"},
    ],
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def declare(project: Path, worker_scopes: list[str], *, web_connections: list[str]) -> None:
    (project / "apps" / "apps.yaml").write_text(
        "apps:\n"
        "  worker:\n"
        "    name: Worker\n"
        "    type: m2m\n"
        "    apis:\n"
        f"      - audience: {LEDGER}\n"
        f"        scopes: {json.dumps(worker_scopes)}\n"
        "  web:\n"
        "    name: Web\n"
        "    type: regular_web\n"
        "    callbacks: [https://web.example.com/callback]\n"
        f"    connections: {json.dumps(web_connections)}\n"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "seed.json").write_text(json.dumps(SEED))
    monkeypatch.chdir(tmp_path)
    assert run("registry", "seed", "seed.json")[0] == 0
    return tmp_path


def registry(project: Path) -> ClientsRegistry:
    opened = open_sqlite(f"sqlite:{project / 'registry.db'}")
    assert isinstance(opened, ClientsRegistry)
    return opened


def holdings(project: Path) -> tuple[dict[str, str], list[Grant], dict[str, tuple[str, ...]]]:
    """The owned apps' ids by key, every grant, and each connection's enabled clients."""
    held = registry(project)
    try:
        ids = {app.stamp.key: app.client_id for app in held.list_apps() if app.stamp}
        links = {c.name: c.enabled_clients for c in held.list_connections()}
        return ids, held.list_grants(), links
    finally:
        held.close()


def apply(*args: str) -> str:
    code, output = run("apply", "--auto-approve", "--secrets-out", "secrets.json", *args)
    assert code == 0, output
    return output


def plan_json() -> dict[str, Any]:
    code, output = run("plan", "--format", "json")
    assert code == 0, output
    data: dict[str, Any] = json.loads(output)
    return data


def test_grants_and_links_are_created_with_their_apps_in_one_run(project: Path) -> None:
    declare(project, ["read:entries"], web_connections=["db", "google-oauth2"])
    [create_web, create_worker] = plan_json()["changes"]
    assert create_worker["after"]["grants"] == {LEDGER: {"scopes": ["read:entries"]}}
    assert create_web["after"]["connections"] == ["db", "google-oauth2"]
    apply()
    ids, grants, links = holdings(project)
    assert [(g.client_id, g.audience, g.scopes) for g in grants] == [
        (ids["worker"], LEDGER, ("read:entries",))
    ]
    assert ids["web"] in links["db"] and ids["web"] in links["google-oauth2"]
    assert ids["worker"] not in links["db"]
    code, output = run("plan", "--detailed-exitcode")
    assert code == 0, output


def test_scopes_are_updated_in_place_and_a_removed_link_is_disabled(project: Path) -> None:
    declare(project, ["read:entries"], web_connections=["db", "google-oauth2"])
    apply()
    [before] = holdings(project)[1]
    declare(project, ["read:entries", "write:entries"], web_connections=["db"])
    changes = plan_json()["changes"]
    assert [(c["key"], c["action"]) for c in changes] == [("web", "update"), ("worker", "update")]
    assert changes[1]["risks"] == ["m2m-scope-added"]
    assert changes[1]["diff"][0]["path"] == f"grants[{LEDGER}].scopes"
    apply()
    ids, [after], links = holdings(project)
    assert after.id == before.id, "updated in place, not deleted and created"
    assert after.scopes == ("read:entries", "write:entries")
    assert ids["web"] not in links["google-oauth2"] and ids["web"] in links["db"]
    assert run("plan", "--detailed-exitcode")[0] == 0


def test_a_scope_added_elsewhere_is_drift_and_apply_puts_it_back(project: Path) -> None:
    declare(project, ["read:entries"], web_connections=["db"])
    apply()
    held = registry(project)
    [grant] = held.list_grants()
    held.update_grant(grant, ApiGrant(LEDGER, scopes=("admin", "read:entries")))
    held.close()
    [update] = plan_json()["changes"]
    assert update["reasons"] == ["drift"]
    assert update["risks"] == ["grants-reverted"]
    assert update["diff"][0]["before"] == ["admin", "read:entries"]
    apply()
    assert holdings(project)[1][0].scopes == ("read:entries",)


def test_a_new_audience_is_a_grant_created_and_a_removed_one_deleted(project: Path) -> None:
    declare(project, ["read:entries"], web_connections=["db"])
    apply()
    text = (project / "apps" / "apps.yaml").read_text()
    (project / "apps" / "apps.yaml").write_text(
        text.replace(f"      - audience: {LEDGER}", f"      - audience: {REPORTS}").replace(
            '["read:entries"]', '["read:reports"]'
        )
    )
    [update] = plan_json()["changes"]
    assert update["risks"] == ["api-added"]
    apply()
    ids, grants, _ = holdings(project)
    assert [(g.client_id, g.audience, g.scopes) for g in grants] == [
        (ids["worker"], REPORTS, ("read:reports",))
    ]


def test_removing_an_app_removes_its_grants_and_leaves_unmanaged_ones_alone(
    project: Path,
) -> None:
    declare(project, ["read:entries"], web_connections=["db"])
    apply()
    held = registry(project)
    ids = {app.stamp.key: app.client_id for app in held.list_apps() if app.stamp}
    # web does not manage its grants: one made elsewhere stays through every apply.
    held.create_grant(ApiGrant(REPORTS, scopes=("read:reports",)), client_id=ids["web"])
    held.close()
    assert run("plan", "--detailed-exitcode")[0] == 0
    text = (project / "apps" / "apps.yaml").read_text()
    (project / "apps" / "apps.yaml").write_text(text[: text.index("  web:")])
    changes = plan_json()["changes"]
    assert [(c["key"], c["action"]) for c in changes] == [("web", "delete")]
    apply()
    _, grants, links = holdings(project)
    assert [g.client_id for g in grants] == [ids["worker"]]
    assert all(ids["web"] not in clients for clients in links.values())


def third_party_grants(project: Path) -> list[tuple[str | None, str, tuple[str, ...]]]:
    held = registry(project)
    try:
        return [(g.default_for, g.audience, g.scopes) for g in held.list_grants() if g.default_for]
    finally:
        held.close()


def test_the_tenant_grants_for_third_party_apps_follow_third_party_apis(project: Path) -> None:
    """Absent, they are the tenant's; declared, they are made what it says; emptied, the
    declared ones go."""
    declare(project, ["read:entries"], web_connections=["db"])
    apply()
    held = registry(project)
    held.create_grant(
        ApiGrant(REPORTS, scopes=("read:reports",)), default_for="third_party_clients"
    )
    held.close()
    assert run("plan", "--detailed-exitcode")[0] == 0, "without third_party_apis: left alone"
    (project / "apps" / "tenant.yaml").write_text(
        f"apps: {{}}\nthird_party_apis:\n  - audience: {LEDGER}\n    scopes: [read:entries]\n"
    )
    [change] = plan_json()["changes"]
    assert (change["action"], change["key"], change["group"]) == (
        "tenant-grants",
        "third_party_apis",
        "third_party_clients",
    )
    assert change["location"] == "apps/tenant.yaml:3:15"
    assert change["risks"] == ["api-added"]
    assert [d["path"] for d in change["diff"]] == [f"grants[{LEDGER}]", f"grants[{REPORTS}]"]
    apply()
    assert third_party_grants(project) == [("third_party_clients", LEDGER, ("read:entries",))]
    assert run("plan", "--detailed-exitcode")[0] == 0
    (project / "apps" / "tenant.yaml").write_text("apps: {}\nthird_party_apis: []\n")
    apply()
    assert third_party_grants(project) == []


def test_a_partial_run_leaves_the_tenant_grants_alone(project: Path) -> None:
    declare(project, ["read:entries"], web_connections=["db"])
    (project / "apps" / "tenant.yaml").write_text(
        f"apps: {{}}\nthird_party_apis:\n  - audience: {LEDGER}\n    scopes: [read:entries]\n"
    )
    code, output = run("plan", "--format", "json", "--target", "worker")
    assert code == 0, output
    assert [c["key"] for c in json.loads(output)["changes"]] == ["worker"]


def test_a_saved_plan_is_stale_once_the_tenant_grants_or_an_apps_grants_change(
    project: Path,
) -> None:
    declare(project, ["read:entries"], web_connections=["db"])
    apply()
    (project / "apps" / "tenant.yaml").write_text(
        f"apps: {{}}\nthird_party_apis:\n  - audience: {LEDGER}\n    scopes: [read:entries]\n"
    )
    declare(project, ["read:entries", "write:entries"], web_connections=["db"])
    assert run("plan", "-o", "plan.json")[0] == 0
    held = registry(project)
    [grant] = held.list_grants()
    held.update_grant(grant, ApiGrant(LEDGER, scopes=("admin",)))
    held.create_grant(
        ApiGrant(REPORTS, scopes=("read:reports",)), default_for="third_party_clients"
    )
    held.close()
    code, output = run("apply", "plan.json", "--secrets-out", "secrets.json")
    assert code == 4, output
    assert "worker (" in output and "changed in the registry since the plan" in output
    assert "third_party_apis: the tenant's grants changed since the plan" in output
    assert third_party_grants(project) == [("third_party_clients", REPORTS, ("read:reports",))]
