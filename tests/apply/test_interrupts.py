"""The stop an interrupt sets: no new change starts, the ones in flight finish and count."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.apply.applier import apply_plan
from reconciler.apply.interrupts import Stop
from reconciler.apply.report import render_report
from reconciler.core.model import Credential
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.registries.base import Created
from reconciler.registries.clients import ClientsRegistry
from tests.helpers import desired, memory_registry

OWNER = "team-a"


class StoppingAt(ClientsRegistry):
    """The embedded registry; the Nth create sets ``stop`` while it is in flight."""

    def __init__(self, inner: ClientsRegistry, stop: Stop, at: int) -> None:
        super().__init__(inner.api, inner.uri)
        self.stop = stop
        self.at = at
        self.creates = 0
        self.in_flight_when_stopped = -1
        self._lock = threading.Lock()

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        with self._lock:
            self.creates += 1
            if self.creates == self.at:
                self.stop.set(signal.SIGINT)
                self.in_flight_when_stopped = self.stop.in_flight
        return super().create(fields, credentials, stamp)


def specs(count: int) -> list[Any]:
    return [desired(f"app-{i:02}", name=f"App {i}", type="spa") for i in range(count)]


def test_a_set_stop_starts_no_new_change_and_the_report_says_so() -> None:
    tenant, inner = memory_registry()
    stop = Stop()
    registry = StoppingAt(inner, stop, at=3)
    current = registry.list_apps()
    report = apply_plan(
        plan(specs(10), current, owner=OWNER, registry=registry.uri), registry, current, stop=stop
    )
    assert report.interrupted and not report.ok
    assert [r.change.key for r in report.results] == ["app-00", "app-01", "app-02"]
    assert all(r.ok for r in report.results)  # the one in flight finished
    assert len(report.skipped) == 7
    assert len(list(tenant.all_clients())) == 3
    assert (registry.in_flight_when_stopped, stop.in_flight, stop.exit_code) == (1, 0, 130)
    summary = render_report(report)
    assert summary.startswith("Apply interrupted: 3 created; 0 failed, 7 not attempted.\n")
    assert "  not attempted: + app-03, + app-04, " in summary
    assert "Run apply again" in summary


def test_in_parallel_every_change_in_flight_finishes_and_none_starts_after() -> None:
    tenant, inner = memory_registry()
    stop = Stop()
    registry = StoppingAt(inner, stop, at=6)
    current = registry.list_apps()
    planned = plan(specs(40), current, owner=OWNER, registry=registry.uri)
    report = apply_plan(planned, registry, current, parallelism=4, stop=stop)
    created = {str(c["client_metadata"]["reconciler_key"]) for c in tenant.all_clients()}
    assert created == {r.change.key for r in report.results if r.ok}
    assert registry.creates == len(created) <= 6 + 3  # at most the other workers' creates
    assert len(report.results) + len(report.skipped) == 40
    assert stop.in_flight == 0


def test_an_unset_stop_changes_nothing() -> None:
    _, registry = memory_registry()
    stop = Stop()
    current = registry.list_apps()
    planned = plan(specs(5), current, owner=OWNER, registry=registry.uri)
    report = apply_plan(planned, registry, current, parallelism=2, stop=stop)
    assert report.ok and not report.interrupted
    assert render_report(report) == "Apply complete: 5 created."


def test_a_stop_remembers_the_first_signal_and_counts_only_before_it() -> None:
    stop = Stop()
    assert stop.begin() and stop.in_flight == 1
    stop.set(signal.SIGTERM)
    stop.set(signal.SIGINT)
    assert not stop.begin()
    stop.end()
    assert (stop.in_flight, stop.exit_code) == (0, 143)
