"""A small project on disk, a Console that records what a use case showed, and the registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.core.plan import Plan
from reconciler.core.stamp import Stamp
from reconciler.diagnostics import Diagnostic
from reconciler.errors import InputError
from reconciler.manifests.workspace import Options, Workspace
from reconciler.tenant.engine import Tenant

OWNER = "team"

WORKER = "  worker:\n    name: Worker\n    type: m2m\n    grant_types: [client_credentials]\n"
SPA = (
    "  spa:\n    name: Single page\n    type: spa\n"
    '    callbacks: ["https://spa.example.com/cb"]\n'
    "    token_endpoint_auth_method: none\n"
)
#: Warned of: a wildcard callback.
PORTAL = '  portal:\n    name: Portal\n    type: regular_web\n    callbacks: ["https://*.example.com/cb"]\n'


def write_project(root: Path, *apps: str, **settings: str) -> None:
    """reconciler.yaml (a SQLite registry in ``root``, extra top-level ``settings``), apps/."""
    extra = "".join(f"{name}: {value}\n" for name, value in settings.items())
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: sqlite:registry.db\n{extra}"
    )
    (root / "apps").mkdir(exist_ok=True)
    write_apps(root, *apps)


def write_apps(root: Path, *apps: str) -> None:
    (root / "apps" / "apps.yaml").write_text("apps:\n" + "".join(apps))


def open_workspace(**options: Any) -> Workspace:
    """The project in the working directory, as the command line would open it."""
    return Workspace.open(Options(**options))


def stamps(root: Path) -> dict[str, Stamp]:
    """The ownership stamps the registry holds, by app key."""
    found: dict[str, Stamp] = {}
    with Tenant(root / "registry.db") as tenant:
        for client in tenant.all_clients():
            stamp = Stamp.read(client.get("client_metadata") or {})
            if stamp is not None:
                found[stamp.key] = stamp
    return found


class Recorder:
    """A Console that says yes, and records each call in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        if diagnostics:
            self.events.append(("warn", "\n".join(str(d) for d in diagnostics)))

    def show_plan(self, plan: Plan) -> None:
        self.events.append(("plan", plan))

    def confirm(self) -> None:
        self.events.append(("confirm", None))

    def progress(self, index: int, total: int, result: ChangeResult) -> None:
        self.events.append(("progress", result))

    def show_report(self, report: ApplyReport) -> None:
        self.events.append(("report", report))


class Refusing(Recorder):
    """A Console whose operator answers no."""

    def confirm(self) -> None:
        super().confirm()
        raise InputError("apply cancelled")
