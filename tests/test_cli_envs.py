"""`plan --all-envs` and `apply --all-envs` against several `reconciler serve` tenants, over
real HTTP: one report with a section per environment, the worst exit code, secrets kept
per tenant, saved plans per environment, and Ctrl-C stopping every environment."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.pipeline.environments import credentials_for, worst_exit_code
from reconciler.server import Server
from reconciler.tenant.engine import Tenant
from tests.helpers import interruptible

ROOT = Path(__file__).parent.parent
MANAGEMENT_ID = "mgmtClientForEnvironmentTests0aa"
CLIENTS = "/api/v2/clients"
ENVIRONMENTS = ("eu", "us", "ap-south")
KEYS = ["portal", "web", "worker"]
WAIT_SECONDS = 20.0


class Served:
    """One environment's tenant: its own domain, management secret and owner."""

    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self.domain = f"{name}.test"
        self.owner = f"team-{name}"
        self.secret = f"management-secret-of-{name}"
        self.tenant = Tenant(tmp_path / f"{name}.db")
        self.server = Server(
            self.tenant,
            client_id=MANAGEMENT_ID,
            client_secret=self.secret,
            tenant_domain=self.domain,
        )
        self.base = self.server.start()

    def close(self) -> None:
        self.server.stop()
        self.tenant.close()

    def inject(self, **fault: Any) -> None:
        httpx.post(f"{self.base}/__control/inject", json=fault).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.base}/__control/inject").raise_for_status()

    def log(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.base}/__control/requests").json()
        return answer

    def created(self) -> int:
        return sum(
            1
            for entry in self.log()["requests"]
            if entry["path"] == CLIENTS and entry["method"] == "POST" and entry["status"] == 201
        )

    def clients(self) -> dict[str, dict[str, Any]]:
        """The apps this environment's owner holds, by key."""
        found = {}
        for client in self.tenant.all_clients():
            metadata = client.get("client_metadata") or {}
            if metadata.get("reconciler_owner") == self.owner:
                found[str(metadata["reconciler_key"])] = client
        return found

    def prefix(self) -> str:
        return self.name.upper().replace("-", "_")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Served]]:
    tenants = {name: Served(name, tmp_path) for name in ENVIRONMENTS}
    try:
        yield tenants
    finally:
        for tenant in tenants.values():
            tenant.close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: dict[str, Served]) -> Path:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    environments = "".join(
        f"  {s.name}:\n    registry: auth0://{s.domain}\n    owner: {s.owner}\n"
        f"    vars: {{DOMAIN: {s.name}.example.com}}\n"
        for s in served.values()
    )
    (root / "reconciler.yaml").write_text(
        f"owner: nobody\nmanifests: [apps]\nenvironments:\n{environments}"
    )
    (root / "apps" / "apps.yaml").write_text(
        "apps:\n"
        "  portal: {name: Portal, type: regular_web, callbacks: ['https://${DOMAIN}/cb']}\n"
        "  web: {name: Web, type: spa, callbacks: ['https://${DOMAIN}/app']}\n"
        "  worker: {name: Worker, type: m2m}\n"
    )
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith("AUTH0_"):
            monkeypatch.delenv(name)
    for tenant in served.values():
        monkeypatch.setenv(f"{tenant.prefix()}_AUTH0_CLIENT_ID", MANAGEMENT_ID)
        monkeypatch.setenv(f"{tenant.prefix()}_AUTH0_CLIENT_SECRET", tenant.secret)
        monkeypatch.setenv(f"{tenant.prefix()}_AUTH0_BASE_URL", tenant.base)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def planned(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_combined_plan_has_a_section_per_environment_each_with_its_own_owner(
    project: Path, served: dict[str, Served]
) -> None:
    result = run("plan", "--all-envs", "--detailed-exitcode", "--format", "json")
    assert result.exit_code == 2, result.output
    data = planned(result)
    assert data["exit_code"] == 2
    assert sorted(data["environments"]) == sorted(ENVIRONMENTS)
    for name, tenant in served.items():
        section = data["environments"][name]
        assert section["exit_code"] == 2
        plan = section["plan"]
        assert (plan["environment"], plan["owner"]) == (name, tenant.owner)
        assert plan["registry"] == f"auth0://{tenant.domain}"
        assert sorted(change["key"] for change in plan["changes"]) == KEYS
        assert tenant.log()["requests"], "each tenant was read through its own base URL"

    text = run("plan", "--all-envs")
    assert text.exit_code == 0, text.output
    for name in ENVIRONMENTS:
        assert f"=== environment {name} ===" in text.stdout
        assert f"https://{name}.example.com/cb" in text.stdout
    assert text.stdout.rstrip().endswith("Exit 0: the worst of them.")

    markdown = run("plan", "--all-envs", "--format", "markdown")
    assert markdown.stdout.startswith("<!-- reconciler-plan: all-envs -->\n")
    for tenant in served.values():
        assert f"### reconciler plan: {tenant.owner} / {tenant.name}" in markdown.stdout


def test_apply_every_environment_then_plan_shows_no_changes_and_secrets_stay_per_tenant(
    project: Path, served: dict[str, Served]
) -> None:
    applied = run("apply", "--all-envs", "--auto-approve", "--secrets-out", "secrets")
    assert applied.exit_code == 0, applied.output
    reports = re.findall(r"^Apply complete: 3 created\.$", applied.stdout, re.MULTILINE)
    assert len(reports) == len(ENVIRONMENTS)

    for tenant in served.values():
        held = tenant.clients()
        assert sorted(held) == KEYS  # one app per key, in its own tenant
        secrets = json.loads((project / "secrets" / f"{tenant.name}.json").read_text())
        assert sorted(secrets) == ["portal", "worker"]
        for key, delivered in secrets.items():
            assert delivered["client_id"] == held[key]["client_id"]
            assert delivered["client_secret"] == held[key]["client_secret"]
            assert delivered["client_secret"] not in applied.output
        assert oct((project / "secrets" / f"{tenant.name}.json").stat().st_mode & 0o777) == "0o600"

    again = run("plan", "--all-envs", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    quiet = re.findall(r"^  \S+\s+exit 0  No changes\. The registry matches", again.stdout, re.M)
    assert len(quiet) == len(ENVIRONMENTS), again.stdout


def test_an_environment_that_fails_is_reported_and_the_others_go_on(
    project: Path, served: dict[str, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("US_AUTH0_CLIENT_SECRET", "not-the-secret")
    result = run("plan", "--all-envs", "--detailed-exitcode", "--format", "json")
    assert result.exit_code == 1, result.output
    data = planned(result)
    assert data["exit_code"] == 1
    failed = data["environments"]["us"]
    assert failed["exit_code"] == 1 and "plan" not in failed
    assert "not-the-secret" not in result.output
    assert "401" in failed["error"] or "credentials" in failed["error"].lower()
    for name in ("eu", "ap-south"):
        assert data["environments"][name]["exit_code"] == 2
        assert len(data["environments"][name]["plan"]["changes"]) == 3

    applied = run("apply", "--all-envs", "--auto-approve")
    assert applied.exit_code == 1, applied.output
    assert sorted(served["eu"].clients()) == sorted(served["ap-south"].clients()) == KEYS
    assert served["us"].clients() == {}
    assert re.search(r"^  us\s+exit 1  error: ", applied.stdout, re.M), applied.stdout


def test_github_format_annotates_each_plan_and_names_the_environment_that_failed(
    project: Path, served: dict[str, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("US_AUTH0_CLIENT_SECRET", "not-the-secret")
    result = run("plan", "--all-envs", "--format", "github")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith("::error title=reconciler%3A environment us::")  # ":" escaped
    assert "not-the-secret" not in result.output
    # the warnings every environment shares are annotated once, not once per environment
    warned = [line for line in result.stdout.splitlines() if "m2m-without-api" in line]
    assert len(warned) == 1, result.stdout


def test_saved_plans_apply_per_environment_and_a_stale_one_exits_4(
    project: Path, served: dict[str, Served]
) -> None:
    made = run("plan", "--all-envs", "-o", "plans")
    assert made.exit_code == 0, made.output
    assert sorted(path.name for path in (project / "plans").iterdir()) == [
        "ap-south.json",
        "eu.json",
        "us.json",
    ]
    applied = run("apply", "--all-envs", "plans", "--secrets-out", "secrets")
    assert applied.exit_code == 0, applied.output
    again = run("plan", "--all-envs", "--detailed-exitcode")
    assert again.exit_code == 0, again.output

    (project / "apps" / "apps.yaml").write_text(
        (project / "apps" / "apps.yaml").read_text().replace("name: Web", "name: Web app")
    )
    remade = run("plan", "--all-envs", "-o", "plans", "--detailed-exitcode")
    assert remade.exit_code == 2, remade.output
    eu = served["eu"]
    client_id = eu.clients()["web"]["client_id"]
    eu.tenant.patch_client(client_id, {"description": "edited in the dashboard"})
    stale = run("apply", "--all-envs", "plans")
    assert stale.exit_code == 4, stale.output
    assert served["us"].clients()["web"]["name"] == "Web app"
    assert eu.clients()["web"]["name"] == "Web"


def test_apply_without_approval_shows_the_combined_plan_and_writes_nothing(
    project: Path, served: dict[str, Served]
) -> None:
    result = run("apply", "--all-envs")
    assert result.exit_code == 1, result.output
    assert "refusing to apply without confirmation" in result.output
    for name in ENVIRONMENTS:
        assert f"=== environment {name} ===" in result.stdout
    assert all(tenant.clients() == {} for tenant in served.values())


def test_flags_that_name_one_environment_are_refused_with_all_envs(project: Path) -> None:
    result = run("plan", "--all-envs", "--env", "eu")
    assert result.exit_code == 1
    assert "refused: --env" in result.output


def start(project: Path, *arguments: str) -> subprocess.Popen[str]:
    """The command in its own process (which plans in forked processes, one per core)."""
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", *arguments]
    with (project / "out.txt").open("w") as out, (project / "err.txt").open("w") as err:
        return subprocess.Popen(
            command,
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=err,
            text=True,
            preexec_fn=interruptible,
        )


def test_a_plan_in_its_own_process_reports_every_environment(
    project: Path, served: dict[str, Served]
) -> None:
    process = start(project, "plan", "--all-envs", "--format", "json", "--parallel-envs", "2")
    assert process.wait(timeout=WAIT_SECONDS) == 0, (project / "err.txt").read_text()
    data = json.loads((project / "out.txt").read_text())
    assert sorted(data["environments"]) == sorted(ENVIRONMENTS)
    for name, tenant in served.items():
        assert data["environments"][name]["plan"]["owner"] == tenant.owner


@pytest.mark.slow
def test_ctrl_c_while_planning_every_environment_exits_130_at_once(
    project: Path, served: dict[str, Served]
) -> None:
    for tenant in served.values():
        tenant.inject(delay=5, count=1, path_prefix=CLIENTS)
    process = start(project, "plan", "--all-envs")
    deadline = time.monotonic() + WAIT_SECONDS
    while sum(tenant.log()["in_flight"] for tenant in served.values()) < len(served):
        assert process.poll() is None, (project / "err.txt").read_text()
        assert time.monotonic() < deadline, "waited too long for the reads"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=4)  # sooner than the reads it left behind

    errors = (project / "err.txt").read_text()
    assert code == 130, errors
    assert errors.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in errors


@pytest.mark.slow
def test_ctrl_c_stops_every_environment_cleanly_and_the_next_apply_converges(
    project: Path, served: dict[str, Served]
) -> None:
    many = [f"app-{n:02}" for n in range(20)]
    lines = [f"  {key}: {{name: App {key}, type: spa}}" for key in many]
    (project / "apps" / "apps.yaml").write_text("apps:\n" + "\n".join(lines) + "\n")
    for tenant in served.values():
        tenant.inject(delay=0.2, count=10_000, path_prefix=CLIENTS, method="POST")
    process = start(project, "apply", "--all-envs", "--auto-approve")
    deadline = time.monotonic() + WAIT_SECONDS
    while sum(tenant.created() for tenant in served.values()) < 6:
        assert process.poll() is None, (project / "err.txt").read_text()
        assert time.monotonic() < deadline, "waited too long for creates"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=WAIT_SECONDS)

    errors, output = (project / "err.txt").read_text(), (project / "out.txt").read_text()
    assert code == 130, errors
    assert "Traceback" not in errors
    assert re.search(r"^Interrupted: ", errors, re.MULTILINE), errors
    assert output.rstrip().endswith("Exit 130: the worst of them."), output
    for tenant in served.values():
        assert tenant.log()["in_flight"] == 0  # every write it started was answered
        assert len(tenant.clients()) == tenant.created() < len(many)

    for tenant in served.values():
        tenant.clear_faults()
    again = run("apply", "--all-envs", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert run("plan", "--all-envs", "--detailed-exitcode").exit_code == 0
    assert all(sorted(tenant.clients()) == many for tenant in served.values())


def test_the_worst_exit_code_is_error_then_stale_then_refused_then_changes() -> None:
    assert worst_exit_code([]) == 0
    assert worst_exit_code([0, 2, 0]) == 2
    assert worst_exit_code([2, 3, 0]) == 3
    assert worst_exit_code([3, 4, 2]) == 4
    assert worst_exit_code([4, 1, 3]) == 1
    assert worst_exit_code([1, 130, 0]) == 130


def test_credentials_of_an_environment_replace_the_plain_ones_whole() -> None:
    environ = {
        "AUTH0_TOKEN": "shared-token",
        "AUTH0_BASE_URL": "https://plain",
        "PROD_EU_AUTH0_CLIENT_ID": "eu-id",
        "PROD_EU_AUTH0_CLIENT_SECRET": "eu-secret",
        "HOME": "/home/ci",
    }
    own = credentials_for("prod-eu", environ)
    assert own["AUTH0_CLIENT_ID"] == "eu-id" and own["AUTH0_CLIENT_SECRET"] == "eu-secret"
    assert "AUTH0_TOKEN" not in own and "AUTH0_BASE_URL" not in own
    assert own["HOME"] == "/home/ci"
    assert credentials_for("staging", environ) == environ


def test_shards_of_a_matrix_share_the_environments_each_once(
    project: Path, served: dict[str, Served]
) -> None:
    seen: list[str] = []
    for shard in ("1/2", "2/2"):
        result = run("plan", "--all-envs", "--shard", shard, "--format", "json")
        assert result.exit_code == 0, result.output
        seen += planned(result)["environments"]
    assert sorted(seen) == sorted(ENVIRONMENTS)
    markdown = run("plan", "--all-envs", "--shard", "2/2", "--format", "markdown")
    assert markdown.stdout.startswith("<!-- reconciler-plan: all-envs 2/2 -->\n")
    assert run("plan", "--all-envs", "--shard", "3/2").exit_code == 1
    assert run("plan", "--shard", "1/2").exit_code == 1
