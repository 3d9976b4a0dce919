"""At plan time, the APIs, scopes and connections manifests name must exist in the registry:
each one that does not is an error (exit 1) at the manifest line that names it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.core.model import ConnectionLink, DesiredApp
from reconciler.pipeline.holdings import read_holdings
from reconciler.pipeline.planning import registry_references
from tests.helpers import memory_registry

LEDGER = "https://ledger.example.com/"
SEED = {
    "resource_servers": [{"identifier": LEDGER, "scopes": [{"value": "read:entries"}]}],
    "connections": [{"name": "db", "strategy": "auth0"}],
}
WORKER = (
    "apps:\n"
    "  worker:\n"
    "    name: Worker\n"
    "    type: m2m\n"
    "    apis:\n"
    f"      - audience: {LEDGER}\n"
    "        scopes: [{scope}]\n"
    "    connections: [{connection}]\n"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


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


def declare(project: Path, *, scope: str, connection: str, third_party: str = "") -> None:
    text = WORKER.format(scope=scope, connection=connection)
    if third_party:
        text += f"third_party_apis: [{{audience: {third_party}}}]\n"
    (project / "apps" / "worker.yaml").write_text(text)


def test_what_the_registry_has_plans(project: Path) -> None:
    declare(project, scope="read:entries", connection="db")
    code, output = run("plan")
    assert code == 0, output


def test_each_missing_api_scope_and_connection_is_an_error_where_it_is_named(
    project: Path,
) -> None:
    declare(
        project,
        scope="write:entries",
        connection="github",
        third_party="https://partner.example.com/",
    )
    code, output = run("plan")
    assert code == 1
    assert "apps/worker.yaml:6:19: error[unknown-scope]: the API " in output
    assert "does not define 'write:entries' (it has: read:entries)" in output
    assert "apps/worker.yaml:8:19: error[unknown-connection]: connection 'github'" in output
    assert "apps/worker.yaml:9:31: error[unknown-api]: audience 'https://partner." in output


def test_the_apis_are_read_only_when_something_names_one_and_connections_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan of apps that name no API reads no APIs; connections are read once, with the
    apps and grants, whatever the apps name."""
    tenant, registry = memory_registry()
    asked: list[str] = []

    def counted(what: str) -> Callable[[], list[dict[str, Any]]]:
        def read() -> list[dict[str, Any]]:
            asked.append(what)
            return []

        return read

    monkeypatch.setattr(tenant, "all_resource_servers", counted("apis"))
    monkeypatch.setattr(tenant, "all_connections", counted("connections"))
    holdings = read_holdings(registry)
    assert asked == ["connections"]
    plain = DesiredApp("web", {"name": "Web"}, grants=(), connections=())
    assert registry_references(registry, holdings, [plain], ()) == []
    assert asked == ["connections"]
    named = DesiredApp("worker", {"name": "Worker"}, connections=(ConnectionLink("db"),))
    [missing] = registry_references(registry, holdings, [named], ())
    assert missing.rule == "unknown-connection"
    assert asked == ["connections", "apis"]
