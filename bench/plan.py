"""Plan figures for 10,000 apps with 1% changed, and 1,000 creates into the embedded registry;
then the same no-change plan at 50,000 apps in a process of its own, for its peak memory.

Prints: time to load and validate, to read the registry, to plan, to render; peak memory;
and the time to apply 1,000 creates. Targets: plan + render <= (load + read) / 4;
1,000 creates < 5 s; peak memory < 400 MB. At 50,000 apps (``--large``): each phase's
time, their total beside five times the 10,000-app total (linear), and the peak memory
(max RSS) of the process that planned, nothing else: target < 500 MB.

Usage: python bench/plan.py [--apps N] [--creates N] [--large N (0: skip)]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
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
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--seed", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed, args.apps)
        return
    if args.measure:
        measure(args.measure)
        return
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
    if args.large:
        phases = ("load + validate", "read registry", "plan", "render text")
        large_figures(args.large, sum(figures[p] for p in phases) * args.large / args.apps)


def large_figures(apps: int, linear: float) -> None:
    """The no-change plan of ``apps`` apps: seeded by one process, planned by another, so
    the planning process's peak memory is its own; ``linear`` is the time that would be."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "large"
        script = [sys.executable, __file__]
        subprocess.run([*script, "--apps", str(apps), "--seed", str(root)], check=True)
        measured = subprocess.run(
            [*script, "--measure", str(root)], check=True, capture_output=True, text=True
        )
    lines = measured.stdout.splitlines()
    total = sum(float(line.split()[-2]) for line in lines if line.endswith(" s"))
    print(f"{apps} apps, no change:")
    for line in lines:
        print(f"  {apps} {line}")
    print(f"  {apps} total {total:.3f} s = {total / linear:.2f} x linear from the first run")


def seed(root: Path, apps: int) -> None:
    """A project of ``apps`` apps applied into its embedded registry."""
    (root / "apps").mkdir(parents=True)
    write_manifests(root / "apps", apps, 100)
    registry_uri = f"sqlite:{root / 'registry.db'}"
    write_config(root, registry_uri)
    os.chdir(root)
    registry = open_registry(registry_uri)
    reading = read_and_plan(load_desired(Workspace.open(Options())), registry)
    report = apply_plan(
        reading.plan, registry, reading.current, secrets=SecretsFile(root / "secrets.json")
    )
    assert report.ok
    registry.close()


def measure(root: Path) -> None:
    """The no-change plan of the project ``seed`` made, phase by phase, and this process's
    peak memory."""
    os.chdir(root)
    figures: dict[str, float] = {}
    workspace = Workspace.open(Options())
    desired = timed("load + validate", figures, lambda: load_desired(workspace))
    registry = open_registry(f"sqlite:{root / 'registry.db'}")
    current = timed("read registry", figures, lambda: paused(registry.list_apps))
    plan = timed("plan", figures, lambda: read_and_plan_from(desired, current, registry.uri))
    timed("render text", figures, lambda: render_text(plan))
    registry.close()
    assert not plan.changes, len(plan.changes)
    for label, seconds in figures.items():
        print(f"{label:<16} {seconds:7.3f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mb:.0f} MB  (target < 500 MB)")


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
