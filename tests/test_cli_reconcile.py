"""The whole loop through the CLI on a copy of the shipped examples."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cli import cli
from reconciler.tenant.engine import Tenant
from tests.helpers import copy_examples

EXAMPLES = Path(__file__).parent.parent / "examples"


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.outputs: list[str] = []

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        self.outputs.append(result.output)
        return result

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.root / ".reconciler" / "registry.db")

    def app(self, key: str) -> dict[str, object]:
        tenant = self.tenant
        try:
            [client] = [
                c
                for c in tenant.all_clients()
                if (c.get("client_metadata") or {}).get("reconciler_key") == key
            ]
        finally:
            tenant.close()
        return client

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))


def offline_fetcher(policy: CimdPolicy) -> CimdFetcher:
    """No network here: every name fails to resolve, as on an offline machine."""

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return CimdFetcher(policy, resolver=resolve)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", offline_fetcher)
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    here = Project(root)
    assert here.run("registry", "seed", "registry-seed.json").exit_code == 0
    result = here.run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert result.exit_code == 0, result.output
    return here


def test_apply_creates_every_app_then_nothing_changes(project: Project) -> None:
    for key in [
        "payments-dashboard",
        "payments-settlement-worker",
        "mobile-wallet",
        "customer-portal",
        "legacy-portal",
        "ledger-sync",
        "partner-assistant",
    ]:
        assert project.app(key)
    legacy = project.app("legacy-portal")
    assert legacy["client_id"] == "LegacyPortal0000000000000000000a"
    assert legacy["grant_types"] == ["authorization_code"]  # adopted and converged
    result = project.run("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes" in result.output


def test_secrets_file_is_private_and_secrets_never_printed(project: Project) -> None:
    path = project.root / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    secrets = json.loads(path.read_text())
    assert set(secrets) == {"payments-settlement-worker", "customer-portal"}
    project.run("plan", "--format", "json", "-o", "plan.json")
    project.run("plan", "--format", "markdown")
    project.run("export", "-o", "exported")
    exported = "".join(p.read_text() for p in (project.root / "exported").iterdir())
    everything = "".join(project.outputs) + exported + (project.root / "plan.json").read_text()
    for entry in secrets.values():
        assert entry["client_secret"] not in everything


def test_changed_callback_is_one_field_diff(project: Project) -> None:
    project.edit(
        "apps/payments.yaml",
        'callbacks: ["https://pay.${DOMAIN}/callback"]',
        'callbacks: ["https://pay.${DOMAIN}/callback", "https://pay.${DOMAIN}/cb2"]',
    )
    result = project.run("plan", "--detailed-exitcode", "--format", "json")
    assert result.exit_code == 2
    plan = json.loads(result.stdout)
    [change] = plan["changes"]
    assert (change["action"], change["key"]) == ("update", "payments-dashboard")
    assert [d["path"] for d in change["diff"]] == ["callbacks"]
    assert change["diff"][0]["after"] == [
        "https://pay.dev.example.com/callback",
        "https://pay.dev.example.com/cb2",
    ]


def test_removed_app_is_deleted_and_protected_app_kept(project: Project) -> None:
    project.edit("apps/mobile.yaml", "  mobile-wallet:", "  mobile-wallet-renamed:")
    (project.root / "apps" / "payments.yaml").write_text(
        (project.root / "apps" / "payments.yaml")
        .read_text()
        .split("  payments-settlement-worker:")[0]
        .replace(
            "  payments-dashboard:",
            "  payments-dashboard-gone:\n    name: x\n    type: spa\n  unused:",
        )
    )
    plan = json.loads(project.run("plan", "--format", "json").stdout)
    actions = {(c["action"], c["key"]) for c in plan["changes"]}
    assert ("delete", "mobile-wallet") in actions
    assert ("delete", "payments-settlement-worker") in actions
    assert ("delete", "payments-dashboard") not in actions
    notices = {(n["kind"], n["key"]) for n in plan["notices"]}
    assert notices == {("protected", "payments-dashboard"), ("rename", "mobile-wallet-renamed")}


def test_edit_in_registry_shows_as_drift(project: Project) -> None:
    client = project.app("customer-portal")
    tenant = project.tenant
    tenant.patch_client(str(client["client_id"]), {"callbacks": ["https://attacker.example/cb"]})
    tenant.close()
    result = project.run("plan", "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2
    [change] = json.loads(result.stdout)["changes"]
    assert change["reasons"] == ["drift"]
    text = project.run("plan").output
    assert "drift" in text


def test_saved_plan_applied_after_registry_changed_is_stale(project: Project) -> None:
    project.edit("apps/web.yaml", "Customer portal", "Customer portal v2")
    assert project.run("plan", "-o", "plan.json").exit_code == 0
    client = project.app("customer-portal")
    tenant = project.tenant
    tenant.patch_client(str(client["client_id"]), {"description": "edited by hand"})
    tenant.close()
    result = project.run("apply", "plan.json")
    assert result.exit_code == 4
    assert "customer-portal" in result.output


def test_saved_plan_applies_exactly(project: Project) -> None:
    project.edit("apps/web.yaml", "Customer portal", "Customer portal v2")
    assert project.run("plan", "-o", "plan.json").exit_code == 0
    result = project.run("apply", "plan.json")
    assert result.exit_code == 0, result.output
    assert project.app("customer-portal")["name"] == "Customer portal v2"
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_saved_plan_is_stale_when_manifests_change(project: Project) -> None:
    project.edit("apps/web.yaml", "Customer portal", "Customer portal v2")
    project.run("plan", "-o", "plan.json")
    project.edit("apps/web.yaml", "Customer portal v2", "Customer portal v3")
    assert project.run("apply", "plan.json").exit_code == 4


def test_export_then_apply_then_plan_is_empty(project: Project, tmp_path: Path) -> None:
    assert project.run("export", "-o", "exported").exit_code == 0
    exported = project.root / "exported"
    for manifest in exported.glob("*.yaml"):
        header = manifest.read_text().splitlines()[0]
        named = header.removeprefix("# yaml-language-server: $schema=")
        assert (manifest.parent / named).is_file(), "the schema reference resolves"
    shipped = Path(__file__).parent.parent / "schemas" / "manifest.schema.json"
    assert (exported / "manifest.schema.json").read_text() == shipped.read_text()
    other = tmp_path / "other"
    other.mkdir()
    (other / "reconciler.yaml").write_text(
        "owner: platform-team/oauth-apps\nmanifests: [apps]\n"
        f"registry: sqlite:{project.root / '.reconciler' / 'registry.db'}\n"
        # the dev environment's values, which the export wrote back as ${NAME}
        "vars: {SUPPORT_EMAIL: oauth-owners@example.com, DOMAIN: dev.example.com, "
        "PORTAL_ORIGIN: 'https://portal.dev.example.com'}\n"
    )
    shutil.copytree(project.root / "exported", other / "apps")
    os.chdir(other)
    assert project.run("validate").exit_code == 0, project.outputs[-1]
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert project.run("plan", "--detailed-exitcode").exit_code == 0, project.outputs[-1]


def test_apply_without_terminal_or_flag_refuses(project: Project) -> None:
    project.edit("apps/web.yaml", "Customer portal", "Customer portal v2")
    result = project.run("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.output


def test_safety_threshold_prints_the_plan_refuses_and_force_overrides(project: Project) -> None:
    project.edit("reconciler.yaml", "  min_owned: 10", "  min_owned: 5")
    (project.root / "apps" / "payments.yaml").unlink()
    (project.root / "apps" / "mobile.yaml").unlink()
    (project.root / "apps" / "web.yaml").unlink()
    planned = project.run("plan")
    assert planned.exit_code == 3  # already in the pull request, not only at apply
    assert "apply will refuse without --force" in planned.stdout
    assert "`apply --force` applies it anyway" in planned.stderr
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 3
    assert "- payments-settlement-worker" in refused.output  # the plan was shown in full
    assert project.app("payments-settlement-worker")
    forced = project.run("apply", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert "payments-dashboard" in forced.output  # protected: kept, and said so


def test_plan_reads_a_missing_registry_as_empty_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text("apps:\n  web: {name: Web, type: spa}\n")
    result = CliRunner().invoke(cli, ["plan", "--detailed-exitcode"])
    assert result.exit_code == 2
    assert "+ web" in result.output
    assert not (tmp_path / ".reconciler").exists()


def test_a_declared_app_deleted_in_the_registry_is_a_change(project: Project) -> None:
    """The embedded registry's client is gone: the plan creates it again (exit 2)."""
    client_id = str(project.app("payments-dashboard")["client_id"])
    tenant = project.tenant
    try:
        tenant.delete_client(client_id)
    finally:
        tenant.close()
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "+ payments-dashboard" in planned.output
    assert "matches the manifests" not in planned.output


def test_an_unwritable_secrets_file_is_refused_before_anything_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text("apps:\n  worker: {name: Worker, type: m2m}\n")
    (tmp_path / "taken").write_text("a file, not a directory")
    result = CliRunner().invoke(cli, ["apply", "--auto-approve", "--secrets-out", "taken/s.json"])
    assert result.exit_code == 1
    assert "--secrets-out taken/s.json: cannot write there" in result.output
    assert not (tmp_path / ".reconciler").exists()
