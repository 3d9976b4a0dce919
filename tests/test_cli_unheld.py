"""RFC 7591 fields an Auth0 client has no place for (``client_uri``, ``policy_uri``,
``tos_uri``, ``contacts``): on the embedded registry and on ``auth0://`` (against
``reconciler serve``) a plan says once that they are not applied there, and never plans
them as an update that would not settle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.server import Server
from reconciler.tenant.engine import Tenant

MANAGEMENT_ID = "mgmtClientForTests000000000000aa"
MANAGEMENT_SECRET = "management-secret-for-tests"
APPS = """\
apps:
  portal:
    name: Portal
    type: regular_web
    callbacks: ["https://portal.example.com/callback"]
    policy_uri: https://portal.example.com/privacy
    contacts: [ops@example.com]
  worker:
    name: Worker
    type: m2m
"""
UNHELD = (
    "this registry has no place for policy_uri (portal); contacts (portal): "
    "they are not applied here"
)


@pytest.fixture(params=["sqlite", "auth0"])
def registry_args(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """The project in the working directory, and the options that name its registry: the
    embedded one, or ``auth0://`` over HTTP to ``reconciler serve``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "apps.yaml").write_text(APPS)
    if request.param == "sqlite":
        yield []
        return
    monkeypatch.setenv("AUTH0_CLIENT_ID", MANAGEMENT_ID)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", MANAGEMENT_SECRET)
    with Tenant(tmp_path / "served.db") as tenant:
        server = Server(
            tenant,
            client_id=MANAGEMENT_ID,
            client_secret=MANAGEMENT_SECRET,
            tenant_domain="tenant.test",
        )
        base = server.start()
        try:
            yield ["--registry", "auth0://tenant.test", "--auth0-base-url", base]
        finally:
            server.stop()


def plan(registry_args: list[str]) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, [*registry_args, "plan", "--detailed-exitcode", "--format", "json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_the_fields_are_said_once_and_never_planned(registry_args: list[str]) -> None:
    code, first = plan(registry_args)
    assert code == 2
    portal = next(change for change in first["changes"] if change["key"] == "portal")
    assert "policy_uri" not in portal["after"] and "contacts" not in portal["after"]
    assert first["notices"] == [{"kind": "unheld", "message": UNHELD, "key": None}]

    applied = CliRunner().invoke(
        cli, [*registry_args, "apply", "--auto-approve", "--secrets-out", "secrets.json"]
    )
    # the tenant, as Auth0, refuses a client member it does not have: none was sent
    assert applied.exit_code == 0, applied.output

    for _ in range(2):
        code, again = plan(registry_args)
        assert code == 0, again
        assert again["changes"] == [] and again["matches_registry"] is True
        assert again["notices"] == [{"kind": "unheld", "message": UNHELD, "key": None}]
    text = CliRunner().invoke(cli, [*registry_args, "plan"]).output
    assert f"unheld: {UNHELD}" in text and "No changes" in text
