"""The apply use case without the command line, against a real embedded SQLite registry."""

from __future__ import annotations

import json
import signal
import ssl
from pathlib import Path

import pytest

from reconciler.apply.interrupts import Stop
from reconciler.errors import InputError, StalePlanError, UnsafePlanError
from reconciler.pipeline import ApplyRequest, apply_workspace, plan_workspace
from reconciler.tenant.engine import Tenant
from tests.cimd_server import DocumentServer, client_document, fetcher
from tests.pipeline.project import (
    PORTAL,
    SPA,
    WORKER,
    Recorder,
    Refusing,
    open_workspace,
    stamps,
    write_apps,
    write_project,
)


def save_plan(root: Path) -> Path:
    saved = root / "plan.json"
    saved.write_text(plan_workspace(open_workspace(), Recorder()).plan.to_json())
    return saved


def test_fresh_apply_warns_shows_confirms_writes_then_reports(root: Path) -> None:
    write_project(root, SPA, PORTAL)
    console = Recorder()

    applied = apply_workspace(
        open_workspace(), ApplyRequest(secrets_out=root / "secrets.json"), console
    )

    assert applied.exit_code == 0
    assert applied.report is not None and applied.report.ok
    assert [change.key for change in applied.plan.changes] == ["portal", "spa"]
    assert set(stamps(root)) == {"portal", "spa"}
    assert console.kinds() == ["warn", "plan", "confirm", "progress", "progress", "report"]
    assert "wildcard" in console.events[0][1]
    assert set(json.loads((root / "secrets.json").read_text())) == {"portal"}
    assert applied.locked_urls == []


def test_a_refused_confirmation_writes_nothing(root: Path) -> None:
    write_project(root, SPA)
    console = Refusing()

    with pytest.raises(InputError, match="apply cancelled"):
        apply_workspace(open_workspace(), ApplyRequest(), console)

    assert stamps(root) == {}
    assert console.kinds() == ["plan", "confirm"]


def test_nothing_to_change_asks_nothing_and_reports_nothing(root: Path) -> None:
    write_project(root, SPA)
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    console = Recorder()

    again = apply_workspace(open_workspace(), ApplyRequest(), console)

    assert (again.exit_code, again.report, again.plan.is_empty) == (0, None, True)
    assert console.kinds() == ["plan"]


def test_a_saved_plan_applies_as_made_without_asking(root: Path) -> None:
    write_project(root, SPA)
    saved = save_plan(root)
    console = Recorder()

    applied = apply_workspace(open_workspace(), ApplyRequest(saved=saved), console)

    assert applied.exit_code == 0
    assert set(stamps(root)) == {"spa"}
    assert console.kinds() == ["plan", "progress", "report"]


def test_a_stale_saved_plan_is_refused_with_exit_4_before_it_is_shown(root: Path) -> None:
    write_project(root, SPA)
    saved = save_plan(root)
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    console = Recorder()

    with pytest.raises(StalePlanError, match="spa: created since the plan was made") as stale:
        apply_workspace(open_workspace(), ApplyRequest(saved=saved), console)

    assert stale.value.exit_code == 4
    assert console.events == []
    assert len(stamps(root)) == 1


def test_a_saved_plan_refuses_variables_given_again(root: Path) -> None:
    write_project(root, SPA)
    saved = save_plan(root)

    with pytest.raises(InputError, match=r"refused: --var \(the plan's values"):
        apply_workspace(open_workspace(vars=("DOMAIN=x",)), ApplyRequest(saved=saved), Recorder())

    assert stamps(root) == {}


def test_a_plan_past_the_thresholds_is_shown_then_refused_unless_forced(root: Path) -> None:
    write_project(root, SPA, WORKER, safety="{min_owned: 1, max_delete_fraction: 0.3}")
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    write_apps(root, SPA)
    console = Recorder()

    with pytest.raises(UnsafePlanError, match="1 of 2 owned apps would be deleted") as unsafe:
        apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), console)

    assert unsafe.value.exit_code == 3
    assert console.kinds() == ["plan"]
    assert set(stamps(root)) == {"spa", "worker"}
    forced = apply_workspace(
        open_workspace(), ApplyRequest(auto_approve=True, force=True), Recorder()
    )
    assert forced.exit_code == 0
    assert set(stamps(root)) == {"spa"}


def test_without_a_sink_a_new_secret_is_named_pending_and_delivered_later(root: Path) -> None:
    write_project(root, WORKER)

    applied = apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())

    assert applied.report is not None
    assert (applied.exit_code, applied.report.secrets_unsaved) == (0, ["worker"])
    assert stamps(root)["worker"].pending
    sink = root / "secrets.json"
    delivered = apply_workspace(
        open_workspace(), ApplyRequest(auto_approve=True, secrets_out=sink), Recorder()
    )
    assert [change.ACTION for change in delivered.plan.changes] == ["deliver"]
    assert set(json.loads(sink.read_text())) == {"worker"}
    assert not stamps(root)["worker"].pending


def test_a_registered_document_is_recorded_in_the_lock_file(
    root: Path, server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.url("/client.json")
    server.serve_json("/client.json", client_document(url, client_name="Partner"))
    partner = f"  partner:\n    cimd: {url}\n    type: regular_web\n"
    write_project(root, partner, cimd="{insecure_allow_loopback_for_tests: true}")
    with Tenant(root / "registry.db") as tenant:
        tenant.update_tenant_settings({"client_id_metadata_document_supported": True})

    applied = apply_workspace(
        open_workspace(), ApplyRequest(auto_approve=True), Recorder(), fetcher=fetcher(trust)
    )

    assert (applied.exit_code, applied.locked_urls) == (0, [url])
    assert list(json.loads((root / "reconciler.lock").read_text())["documents"]) == [url]


def test_a_stop_before_the_writes_ends_with_the_signals_exit_code(root: Path) -> None:
    write_project(root, SPA)
    stop = Stop()
    stop.set(signal.SIGTERM)

    applied = apply_workspace(
        open_workspace(), ApplyRequest(auto_approve=True), Recorder(), stop=stop
    )

    assert applied.report is not None and applied.report.interrupted
    assert applied.exit_code == 128 + signal.SIGTERM
    assert stamps(root) == {}
