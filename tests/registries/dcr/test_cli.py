"""``reconciler`` end to end against node-oidc-provider: apply, plan, secrets, token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from tests.registries.dcr.support import token_for

APPS = """\
apps:
  web:
    name: Web portal
    type: regular_web
    callbacks: ["https://portal.example.com/callback"]
    allowed_logout_urls: ["https://portal.example.com/"]
    metadata: {contacts: "portal-team@example.com"}
  spa:
    name: Dashboard
    type: spa
    callbacks: ["https://dash.example.com/callback"]
    web_origins: ["https://dash.example.com"]
  worker:
    name: Settlement worker
    type: m2m
  mobile:
    name: Mobile
    type: native
    callbacks: ["com.example.mobile:/callback"]
"""


class Project:
    def __init__(self, root: Path, issuer: str) -> None:
        self.root = root
        self.issuer = issuer
        self.outputs: list[str] = []

    def run(self, *args: str) -> Result:
        if args[:1] == ("apply",) and "--secrets-out" not in args:
            args = (*args, "--secrets-out", "secrets.json")
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        self.outputs.append(result.output)
        return result

    def state(self) -> dict[str, Any]:
        document = json.loads((self.root / ".reconciler" / "dcr-state.json").read_text())
        apps: dict[str, Any] = document["issuers"][self.issuer]["apps"]
        return apps

    def secrets(self) -> dict[str, Any]:
        secrets: dict[str, Any] = json.loads((self.root / "secrets.json").read_text())
        return secrets

    def edit(self, old: str, new: str) -> None:
        path = self.root / "apps" / "apps.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, issuer: str) -> Project:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").write_text(
        f"owner: platform\nmanifests: [apps]\nregistry: dcr+{issuer}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "apps.yaml").write_text(APPS)
    return Project(tmp_path, issuer)


def test_apply_then_no_changes_and_the_secret_gets_a_token(project: Project) -> None:
    applied = project.run("apply", "--auto-approve", "--first-run", "--secrets-out", "secrets.json")
    assert applied.exit_code == 0, applied.output
    assert "4 created" in applied.output
    again = project.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output

    assert set(project.state()) == {"web", "spa", "worker", "mobile"}
    state_file = project.root / ".reconciler" / "dcr-state.json"
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    secrets = project.secrets()
    assert set(secrets) == {"web", "worker"}, "public clients have no secret"
    worker = secrets["worker"]
    assert worker["client_id"] == project.state()["worker"]["client_id"]
    assert worker["registry"] == f"dcr+{project.issuer}"
    granted = token_for(project.issuer, worker["client_id"], worker["client_secret"])
    assert granted.status_code == 200, granted.text
    assert granted.json()["token_type"] == "Bearer"

    everything = "".join(project.outputs)
    for entry in secrets.values():
        assert entry["client_secret"] not in everything
    for held in project.state().values():
        assert held["registration_access_token"] not in everything


def test_a_manifest_edit_updates_and_a_removed_app_is_deleted(project: Project) -> None:
    assert project.run("apply", "--auto-approve", "--first-run").exit_code == 0
    token_before = project.state()["web"]["registration_access_token"]
    project.edit('metadata: {contacts: "portal-team@example.com"}', "")
    project.edit("    name: Web portal", "    name: Customer portal")
    planned = project.run("plan", "--detailed-exitcode", "--format", "json")
    assert planned.exit_code == 2, planned.output
    [change] = json.loads(planned.stdout)["changes"]
    assert (change["action"], change["key"]) == ("update", "web")
    assert [d["path"] for d in change["diff"]] == ["name"], "unowned metadata is left alone"
    assert project.run("plan", "-o", "plan.json").exit_code == 0
    saved = project.run("apply", "plan.json")
    assert saved.exit_code == 0, saved.output
    assert project.state()["web"]["registration_access_token"] != token_before
    assert project.run("plan", "--detailed-exitcode").exit_code == 0

    project.edit(APPS[APPS.index("  mobile:") :], "")
    removed = project.run("apply", "--auto-approve")
    assert removed.exit_code == 0, removed.output
    assert "1 deleted" in removed.output
    assert set(project.state()) == {"web", "spa", "worker"}
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_client_gone_from_the_server_is_said_not_recreated(project: Project) -> None:
    import httpx

    assert project.run("apply", "--auto-approve", "--first-run").exit_code == 0
    gone = project.state()["worker"]
    deleted = httpx.delete(
        gone["registration_client_uri"],
        headers={"Authorization": f"Bearer {gone['registration_access_token']}"},
    )
    assert deleted.status_code == 204
    planned = project.run("plan", "--format", "json", "--detailed-exitcode")
    assert planned.exit_code == 2, "a declared app that is gone is not a match"
    plan = json.loads(planned.stdout)
    assert plan["changes"] == [] and plan["matches_registry"] is False
    [notice] = plan["notices"]
    assert notice["kind"] == "unreachable" and notice["key"] == "worker"
    assert "reconciler dcr forget worker" in notice["message"]
    assert "reconciler dcr adopt worker" in notice["message"]
    text = project.run("plan", "--detailed-exitcode")
    assert text.exit_code == 2
    assert "matches the manifests" not in text.output
    assert "does not match the manifests" in text.output
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0 and "worker" in applied.output, "apply names it too"


def test_forget_then_adopt_a_gone_client_back(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert project.run("apply", "--auto-approve", "--first-run").exit_code == 0
    held = project.state()["web"]
    assert project.run("dcr", "forget", "web").exit_code == 0
    assert "web" not in project.state()
    monkeypatch.setenv("DCR_REGISTRATION_ACCESS_TOKEN", held["registration_access_token"])
    # A client id may begin with "-" (node-oidc-provider's are base64url): after "--" it
    # is not read as an option.
    adopted = project.run(
        "dcr",
        "adopt",
        "--registration-client-uri",
        held["registration_client_uri"],
        "--",
        "web",
        held["client_id"],
    )
    assert adopted.exit_code == 0, adopted.output
    assert project.run("dcr", "orphans").output == ""
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert project.state()["web"]["client_id"] == held["client_id"]


MISSING = (
    "DCR state .reconciler/dcr-state.json not found: every app would be registered as new; "
    "restore it from your CI cache, or pass --first-run on the very first apply"
)


def test_a_missing_state_is_named_first_and_plan_exits_3_as_apply_would(
    project: Project,
) -> None:
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 3, planned.output
    assert planned.stdout.splitlines()[2] == f"missing-state: {MISSING}"
    as_json = json.loads(project.run("plan", "--format", "json").stdout)
    assert as_json["notices"][0] == {"kind": "missing-state", "message": MISSING, "key": None}
    assert as_json["matches_registry"] is False
    first = project.run("plan", "--detailed-exitcode", "--first-run")
    assert first.exit_code == 2, first.output
    assert "--first-run says this is the first run" in first.output


def test_apply_refuses_to_register_anew_without_first_run(project: Project) -> None:
    refused = project.run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert refused.exit_code == 3, refused.output
    assert f"error: refused: {MISSING}" in refused.output
    assert not (project.root / ".reconciler" / "dcr-state.json").exists()
    assert not (project.root / "secrets.json").exists()

    assert project.run("plan", "-o", "plan.json", "--first-run").exit_code == 0
    saved = project.run("apply", "plan.json")
    assert saved.exit_code == 3, "a saved plan is judged by the state as it is now"
    assert "this saved plan was made with --first-run: apply it with --first-run" in saved.output
    assert project.run("apply", "plan.json", "--first-run").exit_code == 0
    assert set(project.state()) == {"web", "spa", "worker", "mobile"}


def test_a_state_emptied_by_deletes_is_not_missing(project: Project) -> None:
    assert project.run("apply", "--auto-approve", "--first-run").exit_code == 0
    manifest = project.root / "apps" / "apps.yaml"
    manifest.write_text("apps: {}\n")
    emptied = project.run("apply", "--auto-approve", "--force")
    assert emptied.exit_code == 0, emptied.output
    assert project.state() == {}
    manifest.write_text(APPS)
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2 and "missing-state" not in planned.output
    again = project.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert set(project.state()) == {"web", "spa", "worker", "mobile"}


def test_rotate_secret_says_why_a_dcr_secret_cannot_be_rotated(project: Project) -> None:
    assert project.run("apply", "--auto-approve", "--first-run").exit_code == 0
    before = project.secrets()["worker"]["client_secret"]
    rotated = project.run("rotate-secret", "worker", "--auto-approve", "--secrets-out", "s.json")
    assert rotated.exit_code == 1, rotated.output
    assert "cannot rotate the secret" in rotated.output
    assert "RFC 7592 has no way to ask a server for a new client secret" in rotated.output
    worker = project.secrets()["worker"]
    granted = token_for(project.issuer, worker["client_id"], before)
    assert granted.status_code == 200, "the secret still works: nothing was changed"
