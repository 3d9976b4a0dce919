"""The least privilege reconciler needs, through ``auth0://`` against ``reconciler serve``,
on the example repository (a spa, a native app, regular web apps with secrets and with
connections, an m2m app with a secret and one with private_key_jwt, both with APIs, and a
CIMD app):

- a token with only the read scopes README.md documents for ``plan`` plans it, before
  and after it is applied (then with no changes: it sees every key);
- an apply whose token lacks one scope stops before any write, naming the scope: serve's
  request log shows no write at all, not even the apply lease's (a token that lacks a
  write scope has the plan made once before the lease is taken);
- README.md's table of scopes is the backend's (``registries/auth0/scopes.py``).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cli import cli
from reconciler.registries.auth0.scopes import REQUIRED
from reconciler.registries.base import Operation
from reconciler.server import Server
from reconciler.server.auth import MANAGEMENT_SCOPES
from reconciler.tenant.engine import Tenant
from tests.helpers import copy_examples

ROOT = Path(__file__).parents[3]
MANAGEMENT_ID = "leastPrivilegeManagementClient0a"
MANAGEMENT_SECRET = "least-privilege-management-secret"
PARTNER = "https://assistant.partner.example/oauth/client.json"
AUDIENCE = "https://tenant.test/api/v2/"
READS = (
    Operation.READ_APPS,
    Operation.READ_KEYS,
    Operation.READ_GRANTS,
    Operation.READ_CONNECTIONS,
    Operation.READ_APIS,
    Operation.PREVIEW_CIMD,
    Operation.READ_TENANT_SETTINGS,
)


def offline_fetcher(policy: CimdPolicy) -> CimdFetcher:
    """No network: the CIMD app's document comes from the lock file."""

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "offline")

    return CimdFetcher(policy, resolver=resolve)


def documented(command: str) -> set[str]:
    """The scopes of the row of README.md's table whose first cell is ``command`` (and
    perhaps a remark in parentheses)."""
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = line.strip().split("|")
        if len(cells) > 2 and cells[1].strip().split(" (")[0] == command:
            return set(re.findall(r"`(\w+:\w+)`", cells[2]))
    raise AssertionError(f"README.md has no scopes row for {command}")


def scopes_of(operations: Any) -> set[str]:
    return {scope for op in operations for group in REQUIRED[op] for scope in group}


PLAN_SCOPES = documented("`plan`")


def test_the_readme_documents_the_scopes_the_backend_asks_for() -> None:
    assert PLAN_SCOPES == scopes_of(READS)
    applying = documented("`apply`") | documented("`apply` delivering a pending secret")
    applying |= PLAN_SCOPES
    assert applying == scopes_of(REQUIRED) == set(MANAGEMENT_SCOPES) - {"read:client_summary"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    document = json.loads((ROOT / "examples" / "reconciler.lock").read_text())["documents"][
        PARTNER
    ]["document"]
    with Tenant(tmp_path / "served.db") as tenant:
        server = Server(
            tenant,
            client_id=MANAGEMENT_ID,
            client_secret=MANAGEMENT_SECRET,
            documents={PARTNER: document},
            tenant_domain="tenant.test",
        )
        base = server.start()
        try:
            yield base
        finally:
            server.stop()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: str) -> Path:
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    monkeypatch.setattr("reconciler.pipeline.planning.make_fetcher", offline_fetcher)
    seed = json.loads((root / "registry-seed.json").read_text())
    del seed["description"]
    httpx.post(f"{served}/__control/seed", json=seed).raise_for_status()
    return root


def token(base: str, scopes: set[str] | tuple[str, ...]) -> str:
    answer = httpx.post(
        f"{base}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": MANAGEMENT_ID,
            "client_secret": MANAGEMENT_SECRET,
            "audience": AUDIENCE,
            "scope": " ".join(sorted(scopes)),
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def run(base: str, access_token: str, *args: str) -> Result:
    """``reconciler ARGS`` on ``auth0://tenant.test`` at ``base`` with ``access_token``."""
    return CliRunner(env={"AUTH0_TOKEN": access_token}).invoke(
        cli,
        ["--registry", "auth0://tenant.test", "--auth0-base-url", base, *args],
        catch_exceptions=False,
    )


def writes(base: str) -> list[str]:
    """The writes serve was asked for (``METHOD PATH``), from its request log: token
    requests and the CIMD preview (a POST that only reads) left out."""
    log = httpx.get(f"{base}/__control/requests").json()["requests"]
    return [
        f"{entry['method']} {entry['path']}"
        for entry in log
        if entry["method"] in ("POST", "PATCH", "PUT", "DELETE")
        and entry["path"] not in ("/oauth/token", "/api/v2/clients/cimd/preview")
    ]


def forget_requests(base: str) -> None:
    httpx.delete(f"{base}/__control/requests").raise_for_status()


def test_a_plan_needs_only_the_documented_read_scopes(project: Path, served: str) -> None:
    reader = token(served, PLAN_SCOPES)
    planned = run(served, reader, "plan")
    assert planned.exit_code == 0, planned.output
    assert "to create" in planned.output
    assert writes(served) == []

    everything = token(served, MANAGEMENT_SCOPES)
    applied = run(served, everything, "apply", "--auto-approve", "--secrets-out", "s.json")
    assert applied.exit_code == 0, applied.output

    again = run(served, reader, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # the private_key_jwt app's keys were seen


@pytest.mark.parametrize(
    "missing",
    [
        "read:client_credentials",
        "read:resource_servers",
        "create:clients",
        "update:clients",
        "create:client_credentials",
        "create:client_grants",
        "update:connections",
        "create:resource_servers",
    ],
)
def test_an_apply_missing_one_scope_stops_before_any_write_and_names_it(
    project: Path, served: str, missing: str
) -> None:
    lacking = token(served, tuple(s for s in MANAGEMENT_SCOPES if s != missing))
    forget_requests(served)
    applied = run(served, lacking, "apply", "--auto-approve", "--secrets-out", "s.json")
    assert applied.exit_code == 1, applied.output
    assert "lacks scopes this run needs" in applied.output
    assert f"  {missing}: to " in applied.output, applied.output
    assert writes(served) == []


@pytest.mark.parametrize("missing", ["create:client_credentials", "update:connections"])
def test_a_saved_plan_missing_one_scope_writes_nothing_at_all(
    project: Path, served: str, missing: str
) -> None:
    saved = run(served, token(served, PLAN_SCOPES), "plan", "-o", "plan.json")
    assert saved.exit_code == 0, saved.output
    lacking = token(served, tuple(s for s in MANAGEMENT_SCOPES if s != missing))
    forget_requests(served)
    applied = run(served, lacking, "apply", "plan.json", "--secrets-out", "s.json")
    assert applied.exit_code == 1, applied.output
    assert f"  {missing}: to " in applied.output, applied.output
    assert writes(served) == []


def test_keys_of_apps_no_manifest_manages_are_not_read_without_their_scope(
    project: Path, served: str
) -> None:
    # Source: auth0-fidelity.md section 1: read:client_keys shows a client's
    # client_authentication_methods, and listing its credentials needs
    # read:client_credentials. A Dashboard app with keys (and one with JAR keys) that no
    # manifest names must not stop a plan whose token can see them but not list them.
    with Tenant(Path(project).parent / "served.db") as tenant:
        pem = (project / "keys" / "ledger-2026.pem").read_text()
        key = {"credential_type": "public_key", "name": "k", "pem": pem}
        tenant.create_client(
            {
                "name": "Dashboard worker",
                "app_type": "non_interactive",
                "jwt_configuration": {"alg": "RS256"},
                "client_authentication_methods": {"private_key_jwt": {"credentials": [key]}},
            }
        )
    without_credentials = (PLAN_SCOPES - {"read:client_credentials"}) | {"read:client_keys"}
    reader = token(served, without_credentials)
    # The examples declare a private_key_jwt app: the plan asks for the scope, up front.
    asked = run(served, reader, "plan")
    assert asked.exit_code == 1 and "  read:client_credentials: to " in asked.output
    for manifest in (project / "apps").glob("*.yaml"):
        if "private_key_jwt" in manifest.read_text():
            manifest.unlink()
    planned = run(served, reader, "plan")
    assert planned.exit_code == 0, planned.output
    assert "Insufficient scope" not in planned.output


def test_an_app_with_request_object_keys_asks_for_read_client_credentials(
    project: Path, served: str
) -> None:
    pem_file = "../keys/ledger-2026.pem"
    (project / "apps" / "bank.yaml").write_text(
        "apps:\n  bank:\n    name: Bank\n    type: regular_web\n"
        "    callbacks: [https://bank.example.com/callback]\n"
        "    signed_request_object:\n      required: true\n"
        f"      credentials: [{{name: jar, public_key_file: {pem_file}}}]\n"
    )
    for manifest in (project / "apps").glob("*.yaml"):
        if "private_key_jwt" in manifest.read_text():
            manifest.unlink()
    reader = token(served, PLAN_SCOPES - {"read:client_credentials"})
    planned = run(served, reader, "plan")
    assert planned.exit_code == 1, planned.output
    assert "  read:client_credentials: to " in planned.output and "bank" in planned.output
