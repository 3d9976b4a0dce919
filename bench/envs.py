"""Many tenants in one run: `plan --all-envs` over 20 `reconciler serve` tenants, each 80 ms
away (a LatencyProxy per serve), 500 apps each, beside `plan --env NAME` of each one alone.

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
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from latency import LatencyProxy  # noqa: E402
from validate import write_manifests  # noqa: E402

from reconciler.apply.applier import apply_plan  # noqa: E402
from reconciler.apply.secrets import SecretsFile  # noqa: E402
from reconciler.manifests.workspace import Options, Workspace  # noqa: E402
from reconciler.pipeline import load_desired, read_and_plan  # noqa: E402
from reconciler.registries.sqlite import open_sqlite  # noqa: E402
from reconciler.server import Server  # noqa: E402
from reconciler.tenant.engine import Tenant  # noqa: E402

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


def timed(root: Path, environ: dict[str, str], *arguments: str) -> float:
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", *arguments]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=environ, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


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
        environ = {
            key: value for key, value in os.environ.items() if not key.startswith("AUTH0_")
        }
        environ["PYTHONPATH"] = str(ROOT)
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            databases = list(pool.map(seed, [root] * len(environments), environments))
        for name, database in zip(environments, databases, strict=True):
            secret = f"secret-of-{name}"
            tenant = Tenant(database)
            stack.callback(tenant.close)
            server = stack.enter_context(
                Server(
                    tenant,
                    client_id=CLIENT_ID,
                    client_secret=secret,
                    tenant_domain=f"{name}.bench",
                )
            )
            port = int(server.base_url.rsplit(":", 1)[1])
            proxy = stack.enter_context(
                LatencyProxy("127.0.0.1", port, delay=args.latency / 1000)
            )
            prefix = name.upper()
            environ[f"{prefix}_AUTH0_CLIENT_ID"] = CLIENT_ID
            environ[f"{prefix}_AUTH0_CLIENT_SECRET"] = secret
            environ[f"{prefix}_AUTH0_BASE_URL"] = f"http://127.0.0.1:{proxy.port}"
        seeded = time.perf_counter() - started
        print(
            f"{args.envs} tenants of {args.apps} apps, +{args.latency:.0f} ms each way "
            f"(seeded in {seeded:.1f} s)"
        )
        single: dict[str, float] = {}
        for name in environments:
            prefix = name.upper()
            alone = {
                **{k: v for k, v in environ.items() if not k.startswith(f"{prefix}_AUTH0_")},
                "AUTH0_CLIENT_ID": CLIENT_ID,
                "AUTH0_CLIENT_SECRET": environ[f"{prefix}_AUTH0_CLIENT_SECRET"],
                "AUTH0_BASE_URL": environ[f"{prefix}_AUTH0_BASE_URL"],
            }
            single[name] = timed(root, alone, "plan", "--env", name, "--detailed-exitcode")
        parallel = [] if args.parallel_envs is None else ["--parallel-envs", str(args.parallel_envs)]
        together = timed(root, environ, "plan", "--all-envs", "--detailed-exitcode", *parallel)
        walls = sorted(single.values())
        slowest = walls[-1]
        print(f"{'plan --env NAME, each alone':<36} median {walls[len(walls) // 2]:6.2f} s")
        print(f"{'':<36} slowest {slowest:5.2f} s ({max(single, key=single.__getitem__)})")
        print(f"{'':<36} sum     {sum(walls):6.2f} s (one after another)")
        label = "plan --all-envs" + (f" --parallel-envs {args.parallel_envs}" if parallel else "")
        print(f"{label:<36}        {together:6.2f} s")
        ratio = together / slowest
        verdict = "within" if ratio <= 1.5 else "NOT within"
        print(f"ratio to the slowest single environment: {ratio:.2f}x ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
