"""Shared builders for tests: desired apps from manifest-like dicts, seeded registries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.core.model import DesiredApp
from reconciler.core.stamp import Stamp
from reconciler.manifests.desired import desired_app
from reconciler.manifests.evaluation import ManifestApp
from reconciler.manifests.schema import PLAN_SCHEMA, load_schema
from reconciler.manifests.yamlfile import YamlFile
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import Tenant


def modules_loaded_by(script: str, *, cwd: Path) -> set[str]:
    """Every module a fresh interpreter has loaded after running ``script`` in ``cwd`` (our
    package importable from there)."""
    listing = f"{script}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", listing],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": root},
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def desired(key: str, **data: Any) -> DesiredApp:
    file = YamlFile("apps.yaml", {"apps": {key: data}})
    return desired_app(ManifestApp(key, data, file))


def memory_registry() -> tuple[Tenant, ClientsRegistry]:
    """An empty tenant in memory, set to register CIMD documents."""
    tenant = Tenant(":memory:")
    tenant.update_tenant_settings({"client_id_metadata_document_supported": True})
    return tenant, ClientsRegistry(tenant, "sqlite::memory:")


def seed(
    tenant: Tenant,
    *,
    name: str,
    app_type: str = "spa",
    owner: str | None = None,
    key: str | None = None,
    protect: bool = False,
    **fields: Any,
) -> str:
    """Put an app in the tenant as if made elsewhere (stamped when owner and key are given)."""
    body: dict[str, Any] = {"name": name, "app_type": app_type, **fields}
    if owner is not None and key is not None:
        stamp = Stamp(owner, key, {}, protect)
        body["client_metadata"] = {**body.get("client_metadata", {}), **stamp.to_metadata()}
    return str(tenant.create_client(body)["client_id"])


EXAMPLES = Path(__file__).parent.parent / "examples"


def copy_examples(root: Path) -> None:
    """The shipped examples as Git tracks them: nothing a local run left there (registry,
    secrets, edits) reaches a test. Outside a Git checkout, local state is left out."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "."],
            cwd=EXAMPLES,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        ignored = shutil.ignore_patterns(".reconciler", "secrets*.json", ".secrets*")
        shutil.copytree(EXAMPLES, root, ignore=ignored)
        return
    for name in filter(None, listed.split("\0")):
        source = EXAMPLES / name
        if source.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


_PLAN_VALIDATOR = jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA))


def check_plan_document(data: Any) -> None:
    """Fail unless ``data`` matches schemas/plan.schema.json, naming every mismatch."""
    errors = sorted(_PLAN_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
        )
        raise AssertionError(f"plan does not match schemas/plan.schema.json: {where}")


def plan_document(text: str) -> Any:
    """A JSON plan a subprocess printed, checked against the plan schema."""
    data = json.loads(text)
    check_plan_document(data)
    return data


def interruptible() -> None:
    """A ``preexec_fn`` for a child the test will Ctrl-C: SIGINT back to its default.

    A shell starts background jobs with SIGINT ignored, and an ignored SIGINT is inherited;
    Python then installs no KeyboardInterrupt handler, so the child would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
