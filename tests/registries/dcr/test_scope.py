"""RFC 7591 ``scope``, ``client_uri``, ``policy_uri``, ``tos_uri`` and ``contacts`` against
node-oidc-provider, end to end through the command line: registered, read back and
compared, and the registered scope is what the server lets the app's tokens carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from tests.registries.dcr.support import bearer

LEDGER = "https://ledger.example.com/"
APPS = f"""\
apps:
  worker:
    name: Ledger worker
    type: m2m
    apis:
      - audience: {LEDGER}
        scopes: [write:entries, read:entries]
    connections: [Username-Password-Authentication]
  web:
    name: Web portal
    type: regular_web
    callbacks: ["https://portal.example.com/callback"]
    client_uri: https://portal.example.com/
    policy_uri: https://portal.example.com/privacy
    tos_uri: https://portal.example.com/terms
    contacts: [portal-team@example.com, ops@example.com]
"""
PAGES = {
    "client_uri": "https://portal.example.com/",
    "policy_uri": "https://portal.example.com/privacy",
    "tos_uri": "https://portal.example.com/terms",
    "contacts": ["ops@example.com", "portal-team@example.com"],
}
NO_CONNECTIONS = "this registry has no place for connections (worker): they are not applied here"


class Project:
    def __init__(self, root: Path, issuer: str) -> None:
        self.root = root
        self.issuer = issuer

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def plan(self) -> tuple[int, dict[str, Any]]:
        planned = self.run("plan", "--detailed-exitcode", "--format", "json")
        return planned.exit_code, json.loads(planned.stdout)

    def apply(self, *args: str) -> None:
        applied = self.run("apply", "--auto-approve", "--secrets-out", "secrets.json", *args)
        assert applied.exit_code == 0, applied.output

    def edit(self, old: str, new: str) -> None:
        path = self.root / "apps" / "apps.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))

    def held(self, key: str) -> dict[str, Any]:
        state = json.loads((self.root / ".reconciler" / "dcr-state.json").read_text())
        entry: dict[str, Any] = state["issuers"][self.issuer]["apps"][key]
        return entry

    def on_server(self, key: str) -> dict[str, Any]:
        """The client as the server holds it (an RFC 7592 read with the state's token)."""
        held = self.held(key)
        answer = httpx.get(
            held["registration_client_uri"], headers=bearer(held["registration_access_token"])
        )
        answer.raise_for_status()
        metadata: dict[str, Any] = answer.json()
        return metadata

    def token(self, key: str, scope: str) -> httpx.Response:
        """A client-credentials token for ``scope``, with the secret from --secrets-out."""
        secret = json.loads((self.root / "secrets.json").read_text())[key]
        discovery = httpx.get(f"{self.issuer}/.well-known/openid-configuration").json()
        form = {"grant_type": "client_credentials", "scope": scope}
        return httpx.post(
            discovery["token_endpoint"],
            data=form,
            auth=(secret["client_id"], secret["client_secret"]),
        )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steady_issuer: str) -> Project:
    """Against a peer that keeps registration access tokens, so a test can edit a client on
    the server as its administrator would and reconciler still reads it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").write_text(
        f"owner: platform\nmanifests: [apps]\nregistry: dcr+{steady_issuer}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "apps.yaml").write_text(APPS)
    return Project(tmp_path, steady_issuer)


def test_scope_and_pages_are_registered_then_nothing_is_left_to_change(
    project: Project,
) -> None:
    planned = project.run("plan", "--first-run", "--format", "json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    after = {change["key"]: change["after"] for change in plan["changes"]}
    assert after["worker"]["scope"] == "read:entries write:entries"
    assert "grants" not in after["worker"] and "connections" not in after["worker"]
    assert {name: after["web"][name] for name in PAGES} == PAGES
    assert [n["message"] for n in plan["notices"] if n["kind"] == "unheld"] == [NO_CONNECTIONS]

    project.apply("--first-run")

    worker = project.on_server("worker")
    assert worker["scope"] == "read:entries write:entries"
    web = project.on_server("web")
    assert {name: web[name] for name in PAGES} == PAGES
    code, again = project.plan()
    assert code == 0, again
    assert again["changes"] == []
    assert [n["message"] for n in again["notices"]] == [NO_CONNECTIONS], "said once, each plan"
    assert "No changes" in project.run("plan").output


def test_an_m2m_app_gets_tokens_for_its_registered_scopes_and_no_other(
    project: Project,
) -> None:
    project.apply("--first-run")

    granted = project.token("worker", "read:entries write:entries")
    assert granted.status_code == 200, granted.text
    assert set(granted.json()["scope"].split()) == {"read:entries", "write:entries"}
    one = project.token("worker", "read:entries")
    assert one.status_code == 200, one.text
    assert one.json()["scope"] == "read:entries"
    for outside in ("admin:entries", "read:entries admin:entries"):
        refused = project.token("worker", outside)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_scope"


def test_a_scope_changed_in_the_manifest_is_an_update_and_then_holds(
    project: Project,
) -> None:
    project.apply("--first-run")
    assert project.token("worker", "admin:entries").status_code == 400

    project.edit("scopes: [write:entries, read:entries]", "scopes: [read:entries, admin:entries]")
    code, plan = project.plan()
    assert code == 2
    [change] = plan["changes"]
    assert (change["action"], change["key"]) == ("update", "worker")
    [diff] = change["diff"]
    assert diff["path"] == "scope" and diff["reasons"] == ["manifest"]
    assert (diff["before"], diff["after"]) == (
        "read:entries write:entries",
        "admin:entries read:entries",
    )
    project.apply()

    assert project.on_server("worker")["scope"] == "admin:entries read:entries"
    assert project.token("worker", "admin:entries").status_code == 200
    assert project.token("worker", "write:entries").json()["error"] == "invalid_scope"
    assert project.plan()[0] == 0


def test_a_scope_edited_on_the_server_is_drift_and_is_put_back(project: Project) -> None:
    project.apply("--first-run")
    held = project.held("worker")
    edited = {
        name: value
        for name, value in project.on_server("worker").items()
        if name not in ("registration_access_token", "registration_client_uri")
        and name not in ("client_id_issued_at", "client_secret_expires_at")
    }
    edited["scope"] = "read:entries write:entries admin:entries"
    answer = httpx.put(
        held["registration_client_uri"],
        json=edited,
        headers=bearer(held["registration_access_token"]),
    )
    assert answer.status_code == 200, answer.text

    code, plan = project.plan()
    assert code == 2
    [change] = plan["changes"]
    [diff] = change["diff"]
    assert diff["path"] == "scope" and diff["reasons"] == ["drift"]
    assert diff["before"] == "admin:entries read:entries write:entries"
    project.apply()
    assert project.on_server("worker")["scope"] == "read:entries write:entries"
    assert project.plan()[0] == 0
