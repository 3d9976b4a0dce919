"""The Auth0 backend against `reconciler serve`: real HTTP over loopback, same plans as sqlite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.server import Server
from reconciler.tenant.engine import Tenant
from tests.helpers import copy_examples

EXAMPLES = Path(__file__).parents[3] / "examples"
MANAGEMENT_ID = "mgmtClientForTests000000000000aa"
MANAGEMENT_SECRET = "management-secret-for-tests"
PARTNER = "https://assistant.partner.example/oauth/client.json"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    tenant = Tenant(tmp_path / "served.db")
    document = json.loads((EXAMPLES / "reconciler.lock").read_text())["documents"][PARTNER][
        "document"
    ]
    server = Server(
        tenant,
        client_id=MANAGEMENT_ID,
        client_secret=MANAGEMENT_SECRET,
        documents={PARTNER: document},
        tenant_domain="tenant.test",
    )
    base = server.start()
    try:
        yield server, base
    finally:
        server.stop()
        tenant.close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("AUTH0_CLIENT_ID", MANAGEMENT_ID)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", MANAGEMENT_SECRET)
    seed = json.loads((root / "registry-seed.json").read_text())
    del seed["description"]
    monkeypatch.setattr("reconciler.pipeline.planning.make_fetcher", _offline)
    (root / "seed.json").write_text(json.dumps(seed))
    return root


def _offline(policy: Any) -> Any:
    import socket

    from reconciler.cimd.fetch import CimdFetcher

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "offline")

    return CimdFetcher(policy, resolver=resolve)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def auth0(base: str) -> list[str]:
    return ["--registry", "auth0://tenant.test", "--auth0-base-url", base]


def seed_served(base: str, document: dict[str, Any]) -> None:
    """The examples' apps, APIs and connections, as they exist before reconciler."""
    httpx.post(f"{base}/__control/seed", json=document).raise_for_status()


def comparable(plan: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(c["action"], c["key"], [d["path"] for d in c["diff"]]) for c in plan["changes"]]


def test_same_plan_as_sqlite_then_apply_and_plan_is_empty(
    project: Path, served: tuple[Server, str]
) -> None:
    _, base = served
    seed_served(base, json.loads((project / "seed.json").read_text()))
    assert run("registry", "seed", "seed.json").exit_code == 0
    local = run("plan", "--format", "json")
    remote = run(*auth0(base), "plan", "--format", "json")
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert comparable(json.loads(local.stdout)) == comparable(json.loads(remote.stdout))

    applied = run(*auth0(base), "apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert applied.exit_code == 0, applied.output
    again = run(*auth0(base), "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    listed = httpx.get(f"{base}/__control/requests").json()
    assert listed  # the server saw real HTTP traffic


@pytest.mark.slow  # waits out the Retry-After the server sends
def test_injected_429s_and_5xx_still_converge_without_duplicates(
    project: Path, served: tuple[Server, str]
) -> None:
    _, base = served
    seed_served(base, json.loads((project / "seed.json").read_text()))
    httpx.post(f"{base}/__control/inject", json={"status": 429, "count": 3}).raise_for_status()
    httpx.post(
        f"{base}/__control/inject",
        json={"status": 503, "count": 2, "path_prefix": "/api/v2/clients"},
    ).raise_for_status()
    first = run(*auth0(base), "apply", "--auto-approve", "--secrets-out", "secrets.json")
    httpx.post(f"{base}/__control/inject", json={"status": 500, "count": 2}).raise_for_status()
    second = run(*auth0(base), "apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert second.exit_code == 0, first.output + second.output
    assert run(*auth0(base), "plan", "--detailed-exitcode").exit_code == 0
    token = httpx.post(
        f"{base}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": MANAGEMENT_ID,
            "client_secret": MANAGEMENT_SECRET,
            "audience": "https://tenant.test/api/v2/",
        },
    ).json()["access_token"]
    clients = httpx.get(
        f"{base}/api/v2/clients",
        params={"per_page": 100},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    keys = [(c.get("client_metadata") or {}).get("reconciler_key") for c in clients]
    stamped = [k for k in keys if k]
    assert len(stamped) == len(set(stamped)) == 7


def test_key_rotation_through_the_credentials_routes(
    project: Path, served: tuple[Server, str], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, base = served
    seed_served(base, json.loads((project / "seed.json").read_text()))
    secrets = ("--secrets-out", "secrets.json")
    assert run(*auth0(base), "apply", "--auto-approve", *secrets).exit_code == 0
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    (project / "keys" / "ledger-2027.pem").write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    ledger = project / "apps" / "ledger.yaml"
    ledger.write_text(
        ledger.read_text().replace(
            "ledger-2026, public_key_file: ../keys/ledger-2026.pem",
            "ledger-2027, public_key_file: ../keys/ledger-2027.pem",
        )
    )
    planned = json.loads(run(*auth0(base), "plan", "--format", "json").stdout)
    [change] = planned["changes"]
    assert [d["path"] for d in change["diff"]] == ["credentials"]
    assert "keys-changed" in change["risks"]
    assert run(*auth0(base), "apply", "--auto-approve").exit_code == 0
    assert run(*auth0(base), "plan", "--detailed-exitcode").exit_code == 0


def test_the_registrys_own_cimd_verdict_shows_in_the_plan(
    project: Path, served: tuple[Server, str]
) -> None:
    _, base = served
    seed_served(base, json.loads((project / "seed.json").read_text()))
    broken = {"client_id": "https://elsewhere.example/c.json", "client_name": "Partner"}
    httpx.post(f"{base}/__control/documents", json={PARTNER: broken}).raise_for_status()
    refused = run(*auth0(base), "plan")
    assert refused.exit_code == 1
    assert "registry-cimd" in refused.output and PARTNER in refused.output
