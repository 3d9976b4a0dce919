"""Who may use serve's ``/__control/`` routes, which can empty or rewrite the tenant:
holders of the control secret; without one, only this machine, over loopback, and no
web page (``control.ControlAccess``). Also ``reconciler serve``'s own options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.server import Server
from reconciler.server.control import CONTROL_SECRET_HEADER, is_loopback
from reconciler.tenant.engine import Tenant

ID, SECRET = "controlManagementClient00000aaa", "control-secret-of-the-client"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with Tenant(":memory:") as memory:
        yield memory


@pytest.fixture
def open_server(tenant: Tenant) -> Iterator[str]:
    with Server(tenant, client_id=ID, client_secret=SECRET) as server:
        yield server.base_url


@pytest.fixture
def guarded(tenant: Tenant) -> Iterator[str]:
    with Server(tenant, client_id=ID, client_secret=SECRET, control_secret="c0ntrol") as server:
        yield server.base_url


def test_on_loopback_without_a_secret_this_machine_may_use_them(open_server: str) -> None:
    assert httpx.post(f"{open_server}/__control/reset").status_code == 204


def test_a_host_that_is_not_loopback_is_refused(open_server: str) -> None:
    # A name rebound to 127.0.0.1 (DNS rebinding) reaches the socket with its own Host.
    refused = httpx.post(f"{open_server}/__control/reset", headers={"Host": "evil.example:80"})
    assert refused.status_code == 403
    assert "loopback" in refused.json()["message"]


def test_a_web_page_is_refused(open_server: str) -> None:
    refused = httpx.post(
        f"{open_server}/__control/seed",
        json={"clients": [{"name": "planted"}]},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert "web page" in refused.json()["message"]


def test_with_a_secret_only_its_holders_may(guarded: str) -> None:
    assert httpx.post(f"{guarded}/__control/reset").status_code == 401
    wrong = httpx.post(f"{guarded}/__control/reset", headers={CONTROL_SECRET_HEADER: "guess"})
    assert wrong.status_code == 401
    assert CONTROL_SECRET_HEADER in wrong.json()["message"]
    right = httpx.post(f"{guarded}/__control/reset", headers={CONTROL_SECRET_HEADER: "c0ntrol"})
    assert right.status_code == 204


@pytest.mark.parametrize("route", ["requests", "inject"])
def test_reading_the_log_and_injecting_need_the_secret_too(guarded: str, route: str) -> None:
    method = "GET" if route == "requests" else "DELETE"
    assert httpx.request(method, f"{guarded}/__control/{route}").status_code == 401


def test_health_answers_everyone(guarded: str) -> None:
    assert httpx.get(f"{guarded}/__control/health").json()["status"] == "ok"


def test_beyond_loopback_without_a_secret_they_are_off(tenant: Tenant) -> None:
    with Server(tenant, host="0.0.0.0", client_id=ID, client_secret=SECRET) as server:
        port = server.base_url.rsplit(":", 1)[1]
        refused = httpx.post(f"http://127.0.0.1:{port}/__control/reset")
    assert refused.status_code == 403
    assert "--control-secret" in refused.json()["message"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.4", False),
        ("tenant.example", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from reconciler.cli import main; main()",
            "serve",
            "--db",
            str(tmp_path / "served.db"),
            "--port",
            "0",
            *args,
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def announced(process: subprocess.Popen[str]) -> dict[str, str]:
    """The lines serve prints before it answers, up to "Ctrl-C to stop."."""
    assert process.stdout is not None
    lines: dict[str, str] = {}
    for line in process.stdout:
        if line.startswith("Ctrl-C"):
            return lines
        if "listening on" in line:
            lines["url"] = line.rsplit(" ", 1)[1].strip()
        elif ":" in line:
            name, value = line.strip().split(":", 1)
            lines[name] = value.strip()
    raise AssertionError(f"serve stopped: {process.stderr.read() if process.stderr else ''}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)


def test_serve_beyond_loopback_generates_a_control_secret_and_imitates_a_plan(
    tmp_path: Path,
) -> None:
    process = serve(tmp_path, "--host", "0.0.0.0", "--plan", "free")
    try:
        lines = announced(process)
        port = lines["url"].rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{port}"
        found = re.fullmatch(
            rf"/__control/ with {CONTROL_SECRET_HEADER}: (\S+) .*", lines["control"]
        )
        assert found is not None, lines
        secret = found.group(1)
        assert lines["plan"].startswith("free (at most 10 applications")

        assert httpx.post(f"{base}/__control/reset").status_code == 401
        # The free plan's rate limit unless --rate-limit says otherwise: burst 2.
        assert httpx.get(f"{base}/api/v2/clients").headers["x-ratelimit-limit"] == "2"
        seeded = httpx.post(
            f"{base}/__control/seed",
            json={"clients": [{"name": f"App {n}"} for n in range(11)]},
            headers={CONTROL_SECRET_HEADER: secret},
        )
    finally:
        stop(process)
    assert seeded.status_code == 403
    assert seeded.json()["errorCode"] == "too_many_entities"


def test_serve_takes_a_control_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_SERVE_CONTROL_SECRET", "from-the-environment")
    process = serve(tmp_path)
    try:
        lines = announced(process)
        base = lines["url"]
        assert lines["control"].endswith("the one you gave")
        unguessed = httpx.post(f"{base}/__control/reset").status_code
        known = httpx.post(
            f"{base}/__control/reset", headers={CONTROL_SECRET_HEADER: "from-the-environment"}
        ).status_code
    finally:
        stop(process)
    assert (unguessed, known) == (401, 204)
