"""Plan figures for 10,000 apps with 1% changed, and 1,000 creates into the embedded registry.

Prints: time to load and validate, to read the registry, to plan, to render; peak memory;
and the time to apply 1,000 creates. Targets: plan + render <= (load + read) / 4;
1,000 creates < 5 s; peak memory < 400 MB.

Usage: python bench/plan.py [--apps N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from validate import write_manifests  # noqa: E402

from reconciler.apply.applier import apply_plan  # noqa: E402
from reconciler.apply.secrets import SecretsFile  # noqa: E402
from reconciler.core.collector import collector_paused  # noqa: E402
from reconciler.core.render import render_json, render_markdown, render_text  # noqa: E402
from reconciler.manifests.workspace import Options, Workspace  # noqa: E402
from reconciler.pipeline import load_desired, read_and_plan  # noqa: E402
from reconciler.registries import open_registry  # noqa: E402


def timed(label: str, results: dict[str, float], function):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = function()
    results[label] = time.perf_counter() - started
    return value


def change_one_percent(root: Path) -> int:
    changed = 0
    for path in sorted(root.glob("apps-*.yaml")):
        text = path.read_text()
        # the first app of each file (1 in 100) gets a second logout URL
        new = text.replace('/"]\n', '/", "https://changed.example.com/"]\n', 1)
        changed += new != text
        path.write_text(new)
    return changed


def write_config(root: Path, registry: str) -> None:
    (root / "reconciler.yaml").write_text(
        f"owner: bench\nmanifests: [apps]\nregistry: {registry}\nvars: {{DOMAIN: example.com}}\n"
        "safety: {max_update_fraction: 1, max_delete_fraction: 1}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "apps").mkdir()
        write_manifests(root / "apps", args.apps, 100)
        registry_uri = f"sqlite:{root / 'registry.db'}"
        write_config(root, registry_uri)
        os.chdir(root)

        workspace = Workspace.open(Options())
        desired = load_desired(workspace)
        registry = open_registry(registry_uri)
        reading = read_and_plan(desired, registry)
        started = time.perf_counter()
        sink = SecretsFile(root / "secrets.json")
        report = apply_plan(reading.plan, registry, reading.current, secrets=sink)
        seeded = time.perf_counter() - started
        assert report.ok

        changed = change_one_percent(root / "apps")
        figures: dict[str, float] = {}
        workspace = Workspace.open(Options())
        desired = timed("load + validate", figures, lambda: load_desired(workspace))
        current = timed("read registry", figures, lambda: paused(registry.list_apps))
        plan = timed("plan", figures, lambda: read_and_plan_from(desired, current, registry.uri))
        timed("render text", figures, lambda: render_text(plan))
        timed("render json", figures, lambda: render_json(plan))
        timed("render markdown", figures, lambda: render_markdown(plan))
        registry.close()
        assert len(plan.changes) == changed, (len(plan.changes), changed)

        creates = creates_figure(root, args.creates)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inputs = figures["load + validate"] + figures["read registry"]
    work = figures["plan"] + figures["render text"]
    print(f"apps: {args.apps}, changed: {changed} ({changed / args.apps:.0%})")
    for label, seconds in figures.items():
        print(f"  {label:<16} {seconds:7.3f} s")
    ratio = work / inputs
    print(f"  plan + render text = {work:.3f} s = {ratio:.2f} x (load + read)  (target <= 0.25)")
    print(f"  initial apply of {args.apps} creates: {seeded:.1f} s")
    print(
        f"apply {args.creates} creates into the embedded registry: {creates:.2f} s  (target < 5 s)"
    )
    print(f"peak memory (max RSS): {peak_mb:.0f} MB  (target < 400 MB)")


def paused(read):  # type: ignore[no-untyped-def]
    """As the pipeline reads the registry: with the cyclic collector paused."""
    with collector_paused():
        return read()


def read_and_plan_from(desired, current, uri):  # type: ignore[no-untyped-def]
    from reconciler.core.planner import plan

    env = desired.environment
    return plan(
        desired.apps,
        current,
        owner=env.owner,
        registry=uri,
        safety=env.safety,
        manifest_digest=desired.digest,
    )


def creates_figure(parent: Path, count: int) -> float:
    root = parent / "creates"
    (root / "apps").mkdir(parents=True)
    write_manifests(root / "apps", count, 10)
    write_config(root, f"sqlite:{root / 'registry.db'}")
    os.chdir(root)
    desired = load_desired(Workspace.open(Options()))
    registry = open_registry(f"sqlite:{root / 'registry.db'}")
    reading = read_and_plan(desired, registry)
    started = time.perf_counter()
    with registry.lock():
        sink = SecretsFile(root / "secrets.json")
        report = apply_plan(reading.plan, registry, reading.current, secrets=sink)
    elapsed = time.perf_counter() - started
    assert report.ok and len(report.results) == count
    registry.close()
    os.chdir(parent)
    return elapsed


if __name__ == "__main__":
    main()
