"""Ctrl-C and SIGTERM during a real `reconciler apply` process against `reconciler serve`.

The served registry answers slowly (``/__control/inject`` delays), so the signal lands
while writes are in flight; the request log says when, and how many were answered.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.server import Server
from reconciler.tenant.engine import Tenant
from tests.helpers import interruptible

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
MANAGEMENT_ID = "mgmtClientForInterruptTests00aa"
MANAGEMENT_SECRET = "management-secret-for-interrupt-tests"
OWNER = "interrupt-team"
CLIENTS = "/api/v2/clients"
APPS = 40
WAIT_SECONDS = 20.0


class Served:
    def __init__(self, server: Server, base: str) -> None:
        self.server = server
        self.base = base

    def inject(self, **fault: Any) -> None:
        httpx.post(f"{self.base}/__control/inject", json=fault).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.base}/__control/inject").raise_for_status()

    def log(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.base}/__control/requests").json()
        return answer

    def answered(self, method: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for entry in self.log()["requests"]
            if entry["path"].startswith(CLIENTS)
            and method in (None, entry["method"])
            and status in (None, entry["status"])
        )

    def keys(self) -> list[str]:
        tenant = self.server.tenant
        return sorted(
            str(metadata.get("reconciler_key"))
            for client in tenant.all_clients()
            if (metadata := client.get("client_metadata") or {}).get("reconciler_owner") == OWNER
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    tenant = Tenant(tmp_path / "served.db")
    server = Server(
        tenant,
        client_id=MANAGEMENT_ID,
        client_secret=MANAGEMENT_SECRET,
        tenant_domain="tenant.test",
    )
    base = server.start()
    try:
        yield Served(server, base)
    finally:
        server.stop()
        tenant.close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(f"owner: {OWNER}\nmanifests: [apps]\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("AUTH0_CLIENT_ID", MANAGEMENT_ID)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", MANAGEMENT_SECRET)
    return root


def declare(root: Path, app_type: str) -> list[str]:
    keys = [f"app-{n:02}" for n in range(APPS)]
    lines = [f"  {key}: {{name: App {key}, type: {app_type}}}" for key in keys]
    (root / "apps" / "apps.yaml").write_text("apps:\n" + "\n".join(lines) + "\n")
    return keys


def registry_options(served: Served) -> list[str]:
    return ["--registry", "auth0://tenant.test", "--auth0-base-url", served.base]


def start_apply(root: Path, served: Served, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from reconciler.cli import main; main()"]
    arguments = [*registry_options(served), "apply", "--auto-approve", *extra]
    with (root / "stdout.txt").open("w") as out, (root / "stderr.txt").open("w") as err:
        return subprocess.Popen(
            command + arguments,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=err,
            text=True,
            preexec_fn=interruptible,
        )


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def wait_for(what: str, condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll until ``condition`` holds; fail if the apply ended first or it takes too long."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            cwd = Path.cwd()
            pytest.fail(f"apply exited ({process.returncode}) before {what}:\n{stderr_of(cwd)}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"waited too long for {what}")
        time.sleep(0.02)


def stderr_of(root: Path) -> str:
    return (root / "stderr.txt").read_text()


def stdout_of(root: Path) -> str:
    return (root / "stdout.txt").read_text()


def assert_converges(root: Path, served: Served, keys: list[str], *extra: str) -> None:
    served.clear_faults()
    again = run(*registry_options(served), "apply", "--auto-approve", *extra)
    assert again.exit_code == 0, again.output
    planned = run(*registry_options(served), "plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert served.keys() == keys  # one app per key


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_one_interrupt_finishes_the_writes_in_flight_and_accounts_for_them(
    project: Path, served: Served, signum: int
) -> None:
    keys = declare(project, "m2m")
    served.inject(delay=0.25, count=10_000, path_prefix=CLIENTS)
    process = start_apply(project, served, "--secrets-out", "secrets.json")
    wait_for("some creates", lambda: served.answered("POST", 201) >= 6, process)
    process.send_signal(signum)
    code = process.wait(timeout=WAIT_SECONDS)

    errors, out = stderr_of(project), stdout_of(project)
    assert code == 128 + signum, errors
    named, again = (
        ("", "Ctrl-C again") if signum == signal.SIGINT else (" (SIGTERM)", "a second signal")
    )
    assert re.search(
        rf"^Interrupted{re.escape(named)}: finishing the \d+ writes? in flight, starting no "
        rf"new ones \({again} to stop at once\)$",
        errors,
        re.MULTILINE,
    ), errors
    assert "Traceback" not in errors and "Aborted" not in errors
    summary = re.search(
        r"^Apply interrupted: (\d+) created; 0 failed, (\d+) not attempted\.$", out, re.MULTILINE
    )
    assert summary, out
    created, not_attempted = int(summary[1]), int(summary[2])
    assert not_attempted > 0 and created + not_attempted == APPS
    assert served.log()["in_flight"] == 0  # it waited for every write it had started
    assert len(served.keys()) == served.answered("POST", 201) == created
    secrets = json.loads((project / "secrets.json").read_text())
    assert sorted(secrets) == served.keys()
    assert "Run apply again" in out

    assert_converges(project, served, keys, "--secrets-out", "secrets.json")
    assert sorted(json.loads((project / "secrets.json").read_text())) == keys


def test_a_second_interrupt_stops_at_once_and_the_next_apply_converges(
    project: Path, served: Served
) -> None:
    keys = declare(project, "spa")
    served.inject(delay=0.2, count=7, path_prefix=CLIENTS)  # the list, then a few writes
    served.inject(delay=4, count=10_000, path_prefix=CLIENTS)  # then every write is slow
    process = start_apply(project, served)
    wait_for(
        "slow writes in flight",
        lambda: served.answered() >= 7 and served.log()["in_flight"] > 0,
        process,
    )
    process.send_signal(signal.SIGINT)
    wait_for("the first message", lambda: "Interrupted:" in stderr_of(project), process)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=WAIT_SECONDS)

    errors = stderr_of(project)
    assert code == 130, errors
    assert served.log()["in_flight"] > 0  # it did not wait for the slow writes
    last = errors.strip().splitlines()[-1]
    assert last.startswith("Interrupted again: stopped at once, "), errors
    assert "run apply again" in last
    assert "Traceback" not in errors
    assert "Apply interrupted" not in stdout_of(project)
    assert "+ app-00" in stdout_of(project)  # the plan it had printed was flushed

    deadline = time.monotonic() + WAIT_SECONDS
    while served.log()["in_flight"]:  # the writes it left behind still land
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert_converges(project, served, keys)


def test_an_interrupt_while_reading_exits_130_without_a_traceback(
    project: Path, served: Served
) -> None:
    declare(project, "spa")
    served.inject(delay=3, count=1, path_prefix=CLIENTS)
    process = start_apply(project, served)
    wait_for("the registry read", lambda: served.log()["in_flight"] > 0, process)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=WAIT_SECONDS)

    errors = stderr_of(project)
    assert code == 130, errors
    assert errors.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in errors
    assert served.answered("POST") == 0
