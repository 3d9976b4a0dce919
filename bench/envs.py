"""Many tenants in one run: `plan --all-envs` over 20 `reconciler serve` tenants (each serve
its own process, each 80 ms away behind a LatencyProxy), 500 apps each, beside
`plan --env NAME` of each one alone.

Every environment has its own tenant (``auth0://eNN.bench``), owner and management
credentials (``ENN_AUTH0_*``); each tenant is seeded with the project's apps through the
embedded registry (fast), so every plan is a no-change plan. Each command runs as a user
runs it, in its own process; the figures are the wall times of one run, side by side.
Target: the one `plan --all-envs` within 1.5x the slowest single environment.

Usage: python bench/envs.py [--envs N] [--apps N] [--latency MS] [--parallel-envs N]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from latency import LatencyProxy  # noqa: E402
from validate import write_manifests  # noqa: E402

from reconciler.apply.applier import apply_plan  # noqa: E402
from reconciler.apply.secrets import SecretsFile  # noqa: E402
from reconciler.manifests.workspace import Options, Workspace  # noqa: E402
from reconciler.pipeline import load_desired, read_and_plan  # noqa: E402
from reconciler.registries.sqlite import open_sqlite  # noqa: E402

CLIENT_ID = "benchManagementClient00000000000"
ROOT = Path(__file__).parent.parent


def names(count: int) -> list[str]:
    return [f"e{n:02d}" for n in range(count)]


def project(root: Path, environments: list[str], apps: int) -> None:
    (root / "apps").mkdir(parents=True)
    write_manifests(root / "apps", apps, max(1, min(100, apps // 10)))
    declared = "".join(
        f"  {name}:\n    registry: auth0://{name}.bench\n    owner: bench-{name}\n"
        f"    vars: {{DOMAIN: {name}.example.com}}\n"
        for name in environments
    )
    (root / "reconciler.yaml").write_text(
        f"owner: bench\nmanifests: [apps]\nenvironments:\n{declared}"
        "safety: {max_update_fraction: 1, max_delete_fraction: 1}\n"
    )


def seed(root: Path, name: str) -> Path:
    """The environment's apps, applied straight into its tenant file."""
    os.chdir(root)
    database = root / f"{name}.db"
    options = Options(env=name, registry=f"sqlite:{database}")
    desired = load_desired(Workspace.open(options))
    registry = open_sqlite(f"sqlite:{database}")
    reading = read_and_plan(desired, registry)
    assert apply_plan(reading.plan, registry, reading.current, secrets=SecretsFile(root / "s")).ok
    registry.close()
    return database


@contextmanager
def serving(
    database: Path, name: str, secret: str, environ: dict[str, str]
) -> Iterator[tuple[int, int]]:
    """`reconciler serve` on the tenant file, in its own process (as a user runs it, and
    so that 20 tenants do not share one interpreter's lock): its port and process id."""
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "serve"]
    options = ["--db", str(database), "--port", "0", "--tenant-domain", f"{name}.bench"]
    options += ["--client-id", CLIENT_ID, "--client-secret", secret]
    process = subprocess.Popen(
        [*command, *options],
        env={**environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        announced = re.search(r"listening on http://127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert announced, f"serve for {name} did not start"
        yield int(announced[1]), process.pid
    finally:
        process.terminate()
        process.wait()


@dataclass
class Figure:
    wall: float = 0.0
    #: CPU seconds of the reconciler command (its forked workers included).
    ours: float = 0.0
    #: CPU seconds the serve processes spent meanwhile.
    tenants: float = 0.0


def cpu_of(pids: list[int]) -> float:
    """User and system seconds of these running processes (Linux /proc)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(root: Path, environ: dict[str, str], servers: list[int], *arguments: str) -> Figure:
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", *arguments]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = cpu_of(servers)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=environ, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} exited {done.returncode}:\n{done.stderr}")
    ours = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Figure(elapsed, ours, cpu_of(servers) - served)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", type=int, default=20)
    parser.add_argument("--apps", type=int, default=500)
    parser.add_argument("--latency", type=float, default=80.0, help="ms added to each answer")
    parser.add_argument("--parallel-envs", type=int, default=None)
    args = parser.parse_args()
    environments = names(args.envs)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        project(root, environments, args.apps)
        os.chdir(root)
        started = time.perf_counter()
        environ = {key: value for key, value in os.environ.items() if not key.startswith("AUTH0_")}
        environ["PYTHONPATH"] = str(ROOT)
        servers: list[int] = []
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            databases = list(pool.map(seed, [root] * len(environments), environments))
        for name, database in zip(environments, databases, strict=True):
            secret = f"secret-of-{name}"
            port, pid = stack.enter_context(serving(database, name, secret, environ))
            servers.append(pid)
            proxy = stack.enter_context(LatencyProxy("127.0.0.1", port, delay=args.latency / 1000))
            prefix = name.upper()
            environ[f"{prefix}_AUTH0_CLIENT_ID"] = CLIENT_ID
            environ[f"{prefix}_AUTH0_CLIENT_SECRET"] = secret
            environ[f"{prefix}_AUTH0_BASE_URL"] = f"http://127.0.0.1:{proxy.port}"
        seeded = time.perf_counter() - started
        print(
            f"{args.envs} tenants of {args.apps} apps, +{args.latency:.0f} ms each way "
            f"(seeded in {seeded:.1f} s)"
        )
        single: dict[str, Figure] = {}
        for name in environments:
            prefix = name.upper()
            alone = {
                **{k: v for k, v in environ.items() if not k.startswith(f"{prefix}_AUTH0_")},
                "AUTH0_CLIENT_ID": CLIENT_ID,
                "AUTH0_CLIENT_SECRET": environ[f"{prefix}_AUTH0_CLIENT_SECRET"],
                "AUTH0_BASE_URL": environ[f"{prefix}_AUTH0_BASE_URL"],
            }
            single[name] = timed(root, alone, servers, "plan", "--env", name, "--detailed-exitcode")
        parallel = (
            [] if args.parallel_envs is None else ["--parallel-envs", str(args.parallel_envs)]
        )
        command = ["plan", "--all-envs", "--detailed-exitcode", *parallel]
        together = timed(root, environ, servers, *command)
        slowest = max(single, key=lambda name: single[name].wall)
        median = sorted(single.values(), key=lambda figure: figure.wall)[len(single) // 2]
        total = Figure(*(sum(getattr(f, part) for f in single.values()) for part in vars(median)))
        print(f"{'':<40} {'wall':>7} {'our CPU':>8} {'tenants CPU':>12}")
        rows = [
            ("plan --env NAME alone, median", median),
            (f"plan --env NAME alone, slowest ({slowest})", single[slowest]),
            ("plan --env NAME, all one after another", total),
            (" ".join(["plan", "--all-envs", *parallel]), together),
        ]
        for label, figure in rows:
            print(f"{label:<40} {figure.wall:6.2f}s {figure.ours:7.2f}s {figure.tenants:11.2f}s")
        cores = os.cpu_count() or 1
        floor = (together.ours + together.tenants) / cores
        print(
            f"CPU floor of the --all-envs run on {cores} cores: {floor:.2f} s "
            f"({floor / single[slowest].wall:.2f}x the slowest single environment; the "
            f"run's own CPU, {together.ours / args.envs * 1000:.0f} ms an environment, and "
            "the tenants' on the same cores)"
        )
        ratio = together.wall / single[slowest].wall
        verdict = "within" if ratio <= 1.5 else "NOT within"
        print(f"ratio to the slowest single environment: {ratio:.2f}x ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
