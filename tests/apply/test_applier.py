from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.applier import apply_plan, check_fresh
from reconciler.apply.secrets import SecretsFile
from reconciler.core.changes import Create
from reconciler.core.model import App, Credential
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryBusyError, RegistryError, StalePlanError
from reconciler.registries.base import Created
from reconciler.registries.clients import ClientsRegistry
from reconciler.registries.sqlite import open_sqlite
from tests.helpers import desired, memory_registry

OWNER = "team-a"


class FailingOnce(ClientsRegistry):
    """The embedded registry, failing the Nth create once (a network blip, a 500)."""

    def __init__(self, inner: ClientsRegistry, fail_at: int) -> None:
        super().__init__(inner.api, inner.uri)
        self.creates = 0
        self.fail_at = fail_at

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        self.creates += 1
        if self.creates == self.fail_at:
            raise RegistryError("503 Service Unavailable")
        return super().create(fields, credentials, stamp)


def apps(count: int) -> list[Any]:
    return [desired(f"app-{i}", name=f"App {i}", type="m2m") for i in range(count)]


def plan_for(registry: ClientsRegistry, specs: list[Any]) -> tuple[Plan, list[App]]:
    current = registry.list_apps()
    return plan(specs, current, owner=OWNER, registry=registry.uri), current


def test_stops_at_first_failure_then_converges_without_duplicates(tmp_path: Path) -> None:
    _, inner = memory_registry()
    flaky = FailingOnce(inner, fail_at=3)
    sink = SecretsFile(tmp_path / "secrets.json")
    first, current = plan_for(flaky, apps(5))
    report = apply_plan(first, flaky, current, secrets=sink)
    assert [r.ok for r in report.results] == [True, True, False]
    assert len(report.skipped) == 2
    second, current = plan_for(flaky, apps(5))
    assert [c.key for c in second.changes] == ["app-2", "app-3", "app-4"]
    assert apply_plan(second, flaky, current, secrets=sink).ok
    names = sorted(a.fields["name"] for a in flaky.list_apps())
    assert names == [f"App {i}" for i in range(5)]
    assert plan_for(flaky, apps(5))[0].is_empty


def test_continue_on_error_goes_on() -> None:
    _, inner = memory_registry()
    flaky = FailingOnce(inner, fail_at=1)
    first, current = plan_for(flaky, apps(3))
    report = apply_plan(first, flaky, current, continue_on_error=True)
    assert [r.ok for r in report.results] == [False, True, True]
    assert report.results[0].error == "503 Service Unavailable (apps.yaml:1:1)"


def test_stale_when_an_app_was_created_meanwhile() -> None:
    _, registry = memory_registry()
    first, _ = plan_for(registry, apps(1))
    other, current = plan_for(registry, apps(1))
    apply_plan(other, registry, current)
    with pytest.raises(StalePlanError, match="app-0: created since the plan was made"):
        check_fresh(first, registry.list_apps())
    assert isinstance(first.changes[0], Create)


def test_second_apply_waits_then_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:{tmp_path / 'registry.db'}"
    open_sqlite(uri).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from reconciler.registries.sqlite import open_sqlite
            registry = open_sqlite({uri!r})
            with registry.lock():
                print("locked", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        registry = open_sqlite(uri, lock_timeout=0.2)
        with pytest.raises(RegistryBusyError, match="another apply"):
            with registry.lock():
                pass
        waited = capsys.readouterr().err
        assert "waiting for another apply holding" in waited  # it waited before giving up
        assert "(up to 0.2 s, --lock-timeout)" in waited
        registry.close()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    registry = open_sqlite(uri)
    with registry.lock():
        pass  # free again once the holder is gone
    registry.close()
