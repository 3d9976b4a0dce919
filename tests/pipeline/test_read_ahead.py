"""A plan that reads an Auth0 tenant (``reconciler serve`` over HTTP) while its manifests
load and validate (``planning.plan_workspace``, ``holdings.ReadAhead``): the read starts
first, the manifests' errors and then the token's scopes still come first, the read
thread ends when the run stops early, and Ctrl-C still stops a plan at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ManifestError, RegistryError
from reconciler.pipeline import plan_workspace, planning
from reconciler.pipeline.holdings import ReadAhead
from reconciler.registries.auth0.registry import Auth0Registry
from reconciler.server import Server
from reconciler.server.auth import MANAGEMENT_SCOPES
from reconciler.tenant.engine import Tenant
from tests.helpers import interruptible
from tests.pipeline.project import SPA, WORKER, Recorder, open_workspace, write_apps

MANAGEMENT_ID = "mgmtClientForReadAheadTests0000"
MANAGEMENT_SECRET = "management-secret-for-read-ahead"
ROOT = Path(__file__).parent.parent.parent
#: A bound on waiting for something that happens at once, not a timing measured.
WAIT_SECONDS = 20.0
INVALID = "  broken:\n    name: Broken\n    type: not-a-type\n"


def start_serve(tmp_path: Path, **settings: Any) -> tuple[Server, Tenant]:
    tenant = Tenant(tmp_path / "served.db")
    server = Server(
        tenant,
        client_id=MANAGEMENT_ID,
        client_secret=MANAGEMENT_SECRET,
        tenant_domain="tenant.test",
        **settings,
    )
    return server, tenant


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    server, tenant = start_serve(tmp_path)
    base = server.start()
    try:
        yield base
    finally:
        server.stop()
        tenant.close()


@pytest.fixture
def project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (root / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    (root / "apps").mkdir()
    write_apps(root, SPA, WORKER)
    monkeypatch.setenv("AUTH0_CLIENT_ID", MANAGEMENT_ID)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", MANAGEMENT_SECRET)
    return root


def clients_asked(base: str) -> int:
    log = httpx.get(f"{base}/__control/requests").json()
    return int(log["in_flight"]) + sum(
        entry["path"] == "/api/v2/clients" for entry in log["requests"]
    )


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited too long for {what}")
        time.sleep(0.02)


def read_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("registry-", "auth0-read"))]


def test_the_tenant_is_asked_before_the_manifests_are_loaded(
    project: Path, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = planning.load_desired

    def load_once_the_read_has_started(*args: Any, **kwargs: Any) -> planning.Desired:
        wait_until("the read ahead", lambda: clients_asked(served) > 0)
        return load(*args, **kwargs)

    monkeypatch.setattr(planning, "load_desired", load_once_the_read_has_started)

    planned = plan_workspace(open_workspace(auth0_base_url=served), Recorder())

    assert sorted(change.ACTION for change in planned.plan.changes) == ["create", "create"]
    wait_until("the read threads to end", lambda: not read_threads())


def test_invalid_manifests_are_the_error_and_the_read_ends(project: Path, served: str) -> None:
    write_apps(project, SPA, INVALID)
    httpx.post(
        f"{served}/__control/inject", json={"delay": 2, "path_prefix": "/api/v2/clients"}
    ).raise_for_status()

    with pytest.raises(ManifestError):
        plan_workspace(open_workspace(auth0_base_url=served), Recorder())

    wait_until("the read threads to end", lambda: not read_threads())


def test_the_tokens_missing_scopes_come_before_what_the_read_met(
    project: Path, tmp_path: Path
) -> None:
    server, tenant = start_serve(
        tmp_path,
        management_scopes=tuple(s for s in MANAGEMENT_SCOPES if s not in ("read:clients",)),
    )
    base = server.start()
    try:
        with pytest.raises(RegistryError, match="lacks scopes this run needs"):
            plan_workspace(open_workspace(auth0_base_url=base), Recorder())
    finally:
        server.stop()
        tenant.close()


class FailingRegistry(Auth0Registry):
    """Reads by raising what it was given."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def list_apps(self) -> Any:
        raise self.error

    def stop_reading(self) -> None:
        """Nothing else is being read."""


def test_what_the_read_raised_is_raised_where_the_holdings_are_asked_for() -> None:
    failure = RegistryError("GET /api/v2/clients: 503 Service Unavailable (after 5 attempts)")
    ahead = ReadAhead(FailingRegistry(failure))

    with pytest.raises(RegistryError) as raised:
        ahead.holdings(needs_access=False)

    assert raised.value is failure
    assert ahead.join(WAIT_SECONDS)


def test_ctrl_c_while_a_plan_reads_ahead_exits_130_at_once(project: Path, served: str) -> None:
    httpx.post(
        f"{served}/__control/inject",
        json={"delay": 30, "count": 1, "path_prefix": "/api/v2/clients"},
    ).raise_for_status()
    command = [sys.executable, "-c", "from reconciler.cli import main; main()"]
    arguments = ["--auth0-base-url", served, "plan"]
    with (project / "stderr.txt").open("w") as err:
        process = subprocess.Popen(
            command + arguments,
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            preexec_fn=interruptible,
        )
    try:
        wait_until("the read", lambda: clients_asked(served) > 0)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    errors = (project / "stderr.txt").read_text()
    assert code == 130, errors
    assert errors.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in errors
