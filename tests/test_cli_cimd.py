"""A CIMD app through the CLI, its document served over real HTTPS on loopback."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import reconciler.cli
import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.tenant.engine import Tenant
from tests.cimd_server import DocumentServer, client_document, known_hosts

PATH = "/oauth/client.json"
CIMD_SUPPORTED = "client_id_metadata_document_supported"


def run(*args: str) -> Result:
    return CliRunner().invoke(reconciler.cli.cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: DocumentServer, trust: ssl.SSLContext
) -> Path:
    def fetcher(policy: CimdPolicy) -> CimdFetcher:
        return CimdFetcher(policy, resolver=known_hosts(), ssl_context=trust)

    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", fetcher)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\ncimd: {insecure_allow_loopback_for_tests: true}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "partner.yaml").write_text(
        "apps:\n"
        "  partner:\n"
        f"    cimd: {server.url(PATH)}\n"
        "    type: regular_web\n"
        "    grant_types: [authorization_code]\n"
        "    description: Partner app, as we describe it.\n"
    )
    (tmp_path / "seed.json").write_text(json.dumps({"tenant_settings": {CIMD_SUPPORTED: True}}))
    seeded = run("registry", "seed", "seed.json")
    assert "client_id_metadata_document_supported: true" in seeded.output
    return tmp_path


def publish(server: DocumentServer, **fields: Any) -> None:
    server.serve_json(PATH, client_document(server.url(PATH), **fields))


def registered(project: Path, url: str) -> dict[str, Any]:
    with Tenant(project / ".reconciler" / "registry.db") as tenant:
        found = tenant.find_by_external_client_id(url)
    assert found is not None
    return found


def lock(project: Path) -> dict[str, Any]:
    return json.loads((project / "reconciler.lock").read_text())["documents"]


def test_upstream_edit_is_a_refresh_locked_refuses_apply_refreshes(
    project: Path, server: DocumentServer
) -> None:
    url = server.url(PATH)
    publish(server, client_name="Partner")
    first = run("apply", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert registered(project, url)["name"] == "Partner"
    assert registered(project, url)["description"] == "Partner app, as we describe it."
    assert list(lock(project)) == [url]
    assert run("plan", "--locked", "--detailed-exitcode").exit_code == 0

    publish(
        server,
        client_name="Partner Pro",
        redirect_uris=["https://docs.test.example/callback", "https://docs.test.example/new"],
    )
    planned = run("plan", "--format", "json", "--detailed-exitcode")
    assert planned.exit_code == 2
    [change] = json.loads(planned.stdout)["changes"]
    assert change["action"] == "refresh"
    paths = {d["path"]: d for d in change["diff"]}
    assert (
        paths["document.name"]["before"] == "Partner"
        and paths["document.name"]["after"] == "Partner Pro"
    )
    assert "https://docs.test.example/new" in paths["document.callbacks"]["after"]
    assert "redirect-uri-added" in change["risks"]
    assert "←" in run("plan").stdout

    refused = run("plan", "--locked")
    assert refused.exit_code == 3
    assert url in refused.output

    old_sha = lock(project)[url]["sha256"]
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    client = registered(project, url)
    assert client["name"] == "Partner Pro"
    assert client["description"] == "Partner app, as we describe it."  # re-applied after refresh
    assert client["grant_types"] == ["authorization_code"]
    assert lock(project)[url]["sha256"] != old_sha
    assert run("plan", "--locked", "--detailed-exitcode").exit_code == 0


def test_each_run_closes_the_connections_its_fetcher_kept(
    project: Path,
    server: DocumentServer,
    trust: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.serve_json(PATH, client_document(server.url(PATH)), keep_alive=True)
    made: list[ClosingRecorded] = []

    class ClosingRecorded(CimdFetcher):
        closed = False

        def close(self) -> None:
            super().close()
            self.closed = True

    def fetcher(policy: CimdPolicy) -> CimdFetcher:
        made.append(ClosingRecorded(policy, resolver=known_hosts(), ssl_context=trust))
        return made[-1]

    # lock imports make_fetcher from the planning module when it runs.
    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", fetcher)

    assert run("plan").exit_code == 0
    assert run("lock").exit_code == 0
    assert run("apply", "--auto-approve").exit_code == 0

    assert [each.closed for each in made] == [True, True, True]
    assert server.connections == 3


def test_invalid_document_for_a_new_app_without_lock_is_an_error(
    project: Path, server: DocumentServer
) -> None:
    server.serve_json(PATH, client_document("https://elsewhere.test.example/c.json"))
    result = run("plan")
    assert result.exit_code == 1
    assert "client_id" in result.output and "cannot be registered" in result.output
    assert not (project / "reconciler.lock").exists()


def test_unreachable_document_uses_the_locked_copy_for_a_new_app(
    project: Path, server: DocumentServer
) -> None:
    publish(server, client_name="Partner")
    assert run("lock").exit_code == 0
    server.routes.clear()  # now 404
    result = run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "using the locked copy" in result.output
    assert registered(project, server.url(PATH))["name"] == "Partner"


def test_unreachable_document_for_an_existing_app_keeps_it_and_strict_refuses(
    project: Path, server: DocumentServer
) -> None:
    publish(server, client_name="Partner")
    assert run("apply", "--auto-approve").exit_code == 0
    server.routes.clear()
    relaxed = run("plan", "--detailed-exitcode")
    assert relaxed.exit_code == 0
    assert "kept as it is" in relaxed.output
    assert run("plan", "--strict").exit_code == 1


def test_a_tenant_that_does_not_register_cimd_documents_stops_the_plan_at_the_app(
    project: Path, server: DocumentServer
) -> None:
    publish(server, client_name="Partner")
    (project / "off.json").write_text(json.dumps({"tenant_settings": {CIMD_SUPPORTED: False}}))
    assert run("registry", "seed", "off.json").exit_code == 0
    refused = run("plan")
    assert refused.exit_code == 1
    assert "apps/partner.yaml:2:3: error[cimd-unsupported]" in refused.output
    assert "registry seed" in refused.output and "cannot be registered" in refused.output
