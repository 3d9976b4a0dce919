"""The Auth0 backend against `reconciler serve` (real HTTP over loopback).

Prints: requests and time for a no-change plan of 10,000 apps, then of the same apps with
a client grant each (10,000 grants, seeded through serve's ``/__control/seed`` and declared
as each app's ``apis``), both against the read formula W(N) + W(G) + a constant (every
client window, which overlap so that no client is skipped: W(10,000) = 114; every grant
window, read the same way; then one request each for the token, the connections and,
when a manifest names an API, the APIs), counted by route in serve's request log; the
time for 200 updates under the `enterprise` preset (burst 50, 16/s) against the bucket's
floor of (200 - 50) / 16 s (target: within 15%), and the 429s received (target: at most
2% of requests).

Also the creates of N apps under the same preset: requests per create (a confidential app
costs a second write, the one that records that its secret reached --secrets-out) and the
time against the bucket's floor for that many writes.

With ``--latency MS``, serve (over TLS) sits behind ``bench/latency.py``, which delivers
every answer MS late, and for each of ``--sizes`` (1,000 and 10,000 apps) the bench prints
side by side, in one run:

- reconciler's no-change plan (``plan_workspace``: load and validate the manifests while
  the tenant is read, then plan): its requests and wall time, and the wall time of its
  reads alone (``read_holdings``: the network time);
- the parallel floor of those reads: the fewest rounds of requests they can take, times
  the latency, plus serve's own time. The rounds: the TLS handshake, the token, the first
  page of every list at once (it says the total), then every other request the read made,
  ``READ_PARALLELISM`` at a time (the pool's connections could shake hands during the
  rounds before, so their handshakes are not counted). Serve's own time: every request
  the read made, sent again straight to serve, one after another, without the proxy
  (serve answers in this process, under one interpreter lock, so its time does not
  shrink with concurrency);
- auth0-deploy-cli's export of the same clients through the same proxy (8.44.0, pinned by
  tests/peer/package-lock.json; the bench runs ``npm ci`` there when it is not installed),
  its wall time and requests.

Then serve's own cost of one page of 100 clients at offset 0 and at offset 9,900 (median
of repeated requests straight to serve; target: within 2x of each other). Targets at
10,000 apps with 80 ms: our wall time at most half of auth0-deploy-cli's, our network
time within 2x of the floor. Ratios are measured within one run; absolute times depend on
the machine.

Usage: python bench/auth0.py [--apps N] [--updates N] [--creates N] [--latency MS]
       [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

_BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(_BENCH))

from latency import LatencyProxy  # noqa: E402
from validate import write_manifests  # noqa: E402

# This file is named auth0.py: off the path before tests.auth0_sdk imports the auth0 SDK.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from reconciler.apply.applier import apply_plan  # noqa: E402
from reconciler.apply.secrets import SecretsFile  # noqa: E402
from reconciler.core.stamp import OWNER_KEY  # noqa: E402
from reconciler.diagnostics import Diagnostic  # noqa: E402
from reconciler.manifests.workspace import Options, Workspace  # noqa: E402
from reconciler.pipeline import load_desired, plan_workspace, read_and_plan  # noqa: E402
from reconciler.pipeline.holdings import read_holdings  # noqa: E402
from reconciler.registries.auth0.paging import quiet_requests  # noqa: E402
from reconciler.registries.auth0.registry import (  # noqa: E402
    READ_PARALLELISM,
    ManagementApi,
    open_auth0,
)
from reconciler.registries.clients import READ_MEMBERS  # noqa: E402
from reconciler.registries.sqlite import open_sqlite  # noqa: E402
from reconciler.server import Server  # noqa: E402
from reconciler.tenant.engine import Tenant  # noqa: E402
from tests.auth0_sdk import TlsServe  # noqa: E402
from tests.deploy_cli import PEER, export_clients  # noqa: E402

CLIENT_ID = "benchManagementClient00000000000"
CLIENT_SECRET = "bench-secret"
#: serve plays the tenant ``bench`` (the registry ``auth0://bench``) at its loopback address.
MANAGEMENT = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
API = "https://bench.example.com/api/"
SCOPES = ["read:things", "write:things"]
CONNECTION = "Username-Password-Authentication"
#: Grants per seed request: serve takes bodies of up to 1 MiB.
SEED_BATCH = 2_000
APIS_LINE = f"    apis: [{{audience: '{API}', scopes: [{', '.join(SCOPES)}]}}]\n"
#: A connection's enabled clients are one route, whichever connection.
_CONNECTION_CLIENTS = re.compile(r"^/api/v2/connections/[^/]+/clients$")


def project(root: Path, apps: int, registry: str) -> None:
    (root / "apps").mkdir(parents=True)
    write_manifests(root / "apps", apps, max(1, min(100, apps // 10)))
    (root / "reconciler.yaml").write_text(
        f"owner: bench\nmanifests: [apps]\nregistry: {registry}\nvars: {{DOMAIN: example.com}}\n"
        "safety: {max_update_fraction: 1, max_delete_fraction: 1}\n"
    )


def seed_by_applying(root: Path) -> None:
    """Fill the served tenant's file directly through the embedded registry (fast)."""
    os.chdir(root)
    desired = load_desired(Workspace.open(Options(registry=f"sqlite:{root / 'served.db'}")))
    registry = open_sqlite(f"sqlite:{root / 'served.db'}")
    reading = read_and_plan(desired, registry)
    sink = SecretsFile(root / "seeded-secrets.json")
    assert apply_plan(reading.plan, registry, reading.current, secrets=sink).ok
    registry.close()


def seed_grants(tenant: Tenant, base: str) -> int:
    """The API, a grant for each of the bench's apps, and the database connection (enabled
    for none of them), through serve's control seed."""
    stamped = [
        str(client["client_id"])
        for client in tenant.all_clients()
        if (client.get("client_metadata") or {}).get(OWNER_KEY) == "bench"
    ]
    seed = f"{base}/__control/seed"
    api = {"identifier": API, "scopes": [{"value": scope} for scope in SCOPES]}
    connection = {"name": CONNECTION, "strategy": "auth0"}
    httpx.post(
        seed, json={"resource_servers": [api], "connections": [connection]}
    ).raise_for_status()
    for start in range(0, len(stamped), SEED_BATCH):
        grants = [
            {"client_id": client_id, "audience": API, "scope": SCOPES}
            for client_id in stamped[start : start + SEED_BATCH]
        ]
        httpx.post(seed, json={"client_grants": grants}, timeout=600).raise_for_status()
    return len(stamped)


def declare_apis(root: Path) -> None:
    """Each app of the manifests may call the seeded API with its scopes, as it already can."""
    for path in (root / "apps").glob("*.yaml"):
        path.write_text(path.read_text().replace("    type: ", APIS_LINE + "    type: "))


def logged_plan(root: Path, base: str) -> tuple[Counter[str], float, int]:
    """A plan through auth0://, and the requests serve answered for it, by route."""
    httpx.delete(f"{base}/__control/requests").raise_for_status()
    os.chdir(root)
    desired = load_desired(Workspace.open(Options()))
    registry = open_auth0("auth0://bench", base_url=base, environ=credentials())
    started = time.perf_counter()
    reading = read_and_plan(desired, registry)
    elapsed = time.perf_counter() - started
    registry.close()
    log = httpx.get(f"{base}/__control/requests").json()["requests"]
    routes = Counter(f"{entry['method']} {route_of(entry['path'])}" for entry in log)
    return routes, elapsed, len(reading.plan.changes)


def route_of(path: str) -> str:
    return "/api/v2/connections/{id}/clients" if _CONNECTION_CLIENTS.match(path) else path


def read_formula(apps: int, grants: int, *, connections: int, names_api: bool) -> tuple[str, int]:
    """The requests a plan's reads take when no connection is enabled for more than 100
    apps: every client window, every grant window (a list of none is one page), then one
    each for the token, the connections, each connection's enabled clients and, when a
    manifest names an API, the APIs."""
    constant = ["token", "connections"]
    if connections:
        constant.append(f"the clients of {connections} connection{'s' * (connections > 1)}")
    if names_api:
        constant.append("APIs")
    count = 2 + connections + int(names_api)
    client_pages = quiet_requests(apps)
    grant_pages = quiet_requests(grants)
    text = (
        f"W(N) + W(G) + {count} = {client_pages} + {grant_pages} + {count} ({', '.join(constant)})"
    )
    return text, client_pages + grant_pages + count


def report_plan(
    title: str, figure: tuple[Counter[str], float, int], formula: tuple[str, int]
) -> None:
    routes, seconds, changes = figure
    text, expected = formula
    sent = sum(routes.values())
    verdict = "within" if sent <= expected else "OVER"
    print(f"{title}: {seconds:.2f} s, {sent} requests, {changes} changes")
    print(f"  {verdict} the formula {text} = {expected}")
    for route, count in sorted(routes.items()):
        print(f"  {count:6d}  {route}")


def updates_figure(root: Path, base: str, updates: int) -> tuple[float, int, int]:
    os.chdir(root)
    for path in (root / "apps").glob("*.yaml"):
        path.write_text(path.read_text().replace("Generated application", "Updated application"))
    desired = load_desired(Workspace.open(Options()))
    registry = open_auth0("auth0://bench", base_url=base, environ=credentials())
    api = registry.api
    assert isinstance(api, ManagementApi)
    reading = read_and_plan(desired, registry)
    assert len(reading.plan.changes) == updates, len(reading.plan.changes)
    before_requests, before_limited = api.requests, api.rate_limited
    started = time.perf_counter()
    report = apply_plan(reading.plan, registry, reading.current, parallelism=4)
    elapsed = time.perf_counter() - started
    assert report.ok, [r.error for r in report.results if not r.ok][:3]
    registry.close()
    return elapsed, api.requests - before_requests, api.rate_limited - before_limited


def against_floor(elapsed: float, floor: float) -> str:
    """``1.03 x floor``; within the bucket's burst there is no floor to be measured against."""
    return f"{elapsed / floor:.2f} x floor" if floor > 0 else "within the burst: no floor"


def creates_figure(root: Path, base: str, creates: int) -> tuple[float, int, int, int]:
    os.chdir(root)
    desired = load_desired(Workspace.open(Options()))
    registry = open_auth0("auth0://bench", base_url=base, environ=credentials(), lock=False)
    api = registry.api
    assert isinstance(api, ManagementApi)
    reading = read_and_plan(desired, registry)
    assert len(reading.plan.changes) == creates, len(reading.plan.changes)
    before_requests, before_limited = api.requests, api.rate_limited
    sink = SecretsFile(root / "secrets.json")
    started = time.perf_counter()
    report = apply_plan(reading.plan, registry, reading.current, secrets=sink, parallelism=4)
    elapsed = time.perf_counter() - started
    assert report.ok, [r.error for r in report.results if not r.ok][:3]
    registry.close()
    sent = api.requests - before_requests
    return elapsed, sent, api.rate_limited - before_limited, len(report.secrets_saved)


def credentials() -> dict[str, str]:
    return {"AUTH0_CLIENT_ID": CLIENT_ID, "AUTH0_CLIENT_SECRET": CLIENT_SECRET}


# -- at a distance: --latency ------------------------------------------------------------------

#: Requests of a page of clients timed straight against serve, for its median cost.
PAGE_SAMPLES = 31
#: Routes of serve that are not the Management API (its control routes).
_CONTROL = "/__control/"
#: The tenant TlsServe plays (its management client's token audience names it).
SERVED_REGISTRY = "auth0://tenant.test"


class Quiet:
    """A Console that shows nothing (the plan's warnings are the manifests' business)."""

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        return None


@dataclass(frozen=True)
class AtDistance:
    """One size's figures, 'latency' added to every answer."""

    apps: int
    plan_wall: float
    plan_requests: int
    read_wall: float
    floor: float
    rounds: int
    serve_own: float
    peer_wall: float | None
    peer_requests: int | None
    peer_clients: int | None


def install_peer() -> None:
    """auth0-deploy-cli as tests/peer/package-lock.json pins it, when it is not installed."""
    if (PEER / "node_modules" / ".bin" / "a0deploy").is_file():
        return
    if shutil.which("npm") is None:
        raise SystemExit("auth0-deploy-cli is not installed and npm is not on PATH")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


@contextmanager
def behind_proxy(served: TlsServe, delay: float) -> Iterator[TlsServe]:
    """``served`` as a client a region away sees it: the same server, every answer late."""
    upstream = httpx.URL(served.base_url)
    assert upstream.port is not None
    with LatencyProxy("127.0.0.1", upstream.port, delay=delay) as proxy:
        far = copy.copy(served)
        far.base_url = f"https://127.0.0.1:{proxy.port}"
        yield far


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def logged(served: TlsServe) -> list[dict[str, Any]]:
    with served.http() as http:
        entries: list[dict[str, Any]] = http.get(f"{served.base_url}/__control/requests").json()[
            "requests"
        ]
    return [entry for entry in entries if not entry["path"].startswith(_CONTROL)]


def clear_log(served: TlsServe) -> None:
    with served.http() as http:
        http.delete(f"{served.base_url}/__control/requests").raise_for_status()


def serve_own_time(served: TlsServe, requests: Sequence[dict[str, Any]]) -> float:
    """Seconds serve takes to answer ``requests`` one after another, straight (no proxy),
    over one kept-alive connection, with a token of the management client's scopes."""
    reads = [entry for entry in requests if entry["method"] == "GET"]
    token = served.token(
        "read:clients read:client_keys read:client_credentials "
        "read:client_grants read:connections read:resource_servers"
    )
    headers = {"Authorization": f"Bearer {token}"}
    with served.http() as http:
        started = time.perf_counter()
        for entry in reads:
            query = f"?{entry['query']}" if entry["query"] else ""
            http.get(f"{served.base_url}{entry['path']}{query}", headers=headers)
        return time.perf_counter() - started


def floor_rounds(requests: Sequence[dict[str, Any]]) -> int:
    """The fewest rounds the read's requests can take: the handshake and the token, the
    first page of every list at once, then the rest ``READ_PARALLELISM`` at a time."""
    api = [entry for entry in requests if entry["path"].startswith("/api/v2/")]
    lists = {entry["path"] for entry in api if "page=0&" in f"{entry['query']}&"}
    rest = len(api) - len(lists)
    return 2 + 1 + math.ceil(rest / READ_PARALLELISM)


def served_credentials(served: TlsServe) -> dict[str, str]:
    return {"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret}


def our_plan(root: Path, far: TlsServe) -> tuple[float, int]:
    """A no-change plan the way `reconciler plan` makes it, through ``far``."""
    os.chdir(root)
    clear_log(far)
    options = Options(registry=SERVED_REGISTRY, auth0_base_url=far.base_url)
    with environment({**served_credentials(far), "SSL_CERT_FILE": far.ca_file}):
        started = time.perf_counter()
        planned = plan_workspace(Workspace.open(options), Quiet())
        elapsed = time.perf_counter() - started
    assert planned.plan.is_empty, [change.to_data() for change in planned.plan.changes][:3]
    return elapsed, len(logged(far))


def our_reads(far: TlsServe) -> tuple[float, list[dict[str, Any]]]:
    """The plan's reads alone (a new registry, so the token and handshakes count too)."""
    clear_log(far)
    registry = open_auth0(
        SERVED_REGISTRY,
        base_url=far.base_url,
        environ=served_credentials(far),
        verify=ssl.create_default_context(cafile=far.ca_file),
        lock=False,
    )
    started = time.perf_counter()
    read_holdings(registry, needs_access=False)
    elapsed = time.perf_counter() - started
    registry.close()
    return elapsed, logged(far)


def peer_export(far: TlsServe, directory: Path) -> tuple[float, int, int]:
    """auth0-deploy-cli's export of the clients through ``far``: wall (with node's start
    and the token the export is handed, fetched through the proxy), requests, clients."""
    clear_log(far)
    started = time.perf_counter()
    clients = export_clients(far, directory)
    elapsed = time.perf_counter() - started
    return elapsed, len(logged(far)), len(clients)


def at_distance(root: Path, apps: int, delay: float, *, peer: bool) -> AtDistance:
    """The no-change plan, its floor and the peer's export at ``apps``, ``delay`` away."""
    with TlsServe(root / "served.db") as served, behind_proxy(served, delay) as far:
        plan_wall, plan_requests = our_plan(root, far)
        read_wall, requests = our_reads(far)
        rounds = floor_rounds(requests)
        own = serve_own_time(served, requests)
        peer_figures = peer_export(far, root / "a0deploy") if peer else (None, None, None)
    return AtDistance(
        apps,
        plan_wall,
        plan_requests,
        read_wall,
        rounds * delay + own,
        rounds,
        own,
        *peer_figures,
    )


def page_cost(root: Path, offsets: Sequence[int]) -> dict[int, float]:
    """Serve's median seconds for one page of 100 clients at each offset, asked straight
    as the plan's read asks it, the offsets taken in turn so that both see the same load."""
    samples: dict[int, list[float]] = {offset: [] for offset in offsets}
    with TlsServe(root / "served.db") as served, served.http() as http:
        headers = {"Authorization": f"Bearer {served.token('read:clients')}"}
        for _ in range(PAGE_SAMPLES):
            for offset in offsets:
                query = {
                    "page": offset // 100,
                    "per_page": 100,
                    "include_totals": "true",
                    "is_global": "false",
                    "fields": ",".join(sorted(READ_MEMBERS)),
                    "include_fields": "true",
                }
                started = time.perf_counter()
                http.get(f"{served.base_url}/api/v2/clients", params=query, headers=headers)
                samples[offset].append(time.perf_counter() - started)
    return {offset: statistics.median(times) for offset, times in samples.items()}


def report_at_distance(figures: Sequence[AtDistance], delay: float) -> None:
    ms = round(delay * 1000)
    print(f"no-change plan through auth0://, {ms} ms added to every answer (serve over TLS):")
    header = f"  {'':44}" + "".join(f"{f'N = {f.apps:,}':>22}" for f in figures)
    print(header)

    def row(label: str, cells: Sequence[str]) -> None:
        print(f"  {label:44}" + "".join(f"{cell:>22}" for cell in cells))

    row("reconciler plan: wall", [f"{f.plan_wall:.2f} s" for f in figures])
    row("  requests", [f"{f.plan_requests}" for f in figures])
    row("  its reads alone (network time)", [f"{f.read_wall:.2f} s" for f in figures])
    row(
        f"parallel floor ({READ_PARALLELISM} at once)",
        [f"{f.floor:.2f} s" for f in figures],
    )
    row("  rounds x latency", [f"{f.rounds} x {ms} ms" for f in figures])
    row("  + serve's own time", [f"{f.serve_own:.2f} s" for f in figures])
    row(
        "auth0-deploy-cli 8.44.0 export: wall",
        [f"{f.peer_wall:.2f} s" if f.peer_wall is not None else "-" for f in figures],
    )
    row("  requests", [f"{f.peer_requests}" if f.peer_requests else "-" for f in figures])
    row(
        "our wall / auth0-deploy-cli's (target <= 0.5)",
        [f"{f.plan_wall / f.peer_wall:.2f}" if f.peer_wall else "-" for f in figures],
    )
    row(
        "our network time / floor (target <= 2)",
        [f"{f.read_wall / f.floor:.2f}" for f in figures],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--latency", type=float, default=None, metavar="MS")
    parser.add_argument("--sizes", default="1000,10000", help="apps, for --latency")
    parser.add_argument("--no-peer", action="store_true", help="skip auth0-deploy-cli")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")] if args.latency is not None else []
    if sizes and not args.no_peer:
        install_peer()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "plan"
        project(big, args.apps, "auth0://bench")
        seed_by_applying(big)
        far_roots: dict[int, Path] = {}
        for size in sizes:
            far_roots[size] = Path(tmp) / f"far-{size}"
            if size == args.apps:
                shutil.copytree(big, far_roots[size])
            else:
                project(far_roots[size], size, "auth0://bench")
                seed_by_applying(far_roots[size])
        distant = [
            at_distance(far_roots[size], size, args.latency / 1000, peer=not args.no_peer)
            for size in sizes
        ]
        costs = page_cost(far_roots[max(sizes)], [0, 9_900]) if sizes else {}
        tenant = Tenant(big / "served.db")
        with Server(tenant, tenant_domain="bench", **MANAGEMENT) as server:
            plain = logged_plan(big, server.base_url)
            granted = seed_grants(tenant, server.base_url)
            declare_apis(big)
            with_grants = logged_plan(big, server.base_url)
        tenant.close()

        small = Path(tmp) / "updates"
        project(small, args.updates, "auth0://bench")
        seed_by_applying(small)
        tenant = Tenant(small / "served.db")
        with Server(tenant, tenant_domain="bench", rate_limit="enterprise", **MANAGEMENT) as server:
            elapsed, sent, limited = updates_figure(small, server.base_url, args.updates)
        tenant.close()

        fresh = Path(tmp) / "creates"
        project(fresh, args.creates, "auth0://bench")
        tenant = Tenant(fresh / "served.db")
        with Server(tenant, tenant_domain="bench", rate_limit="enterprise", **MANAGEMENT) as server:
            made = creates_figure(fresh, server.base_url, args.creates)
        tenant.close()
    floor = max(args.updates - 50, 0) / 16
    report_plan(
        f"plan of {args.apps} apps through auth0://",
        plain,
        read_formula(args.apps, 0, connections=0, names_api=False),
    )
    report_plan(
        f"plan of {args.apps} apps with {granted} grants through auth0://",
        with_grants,
        read_formula(args.apps, granted, connections=1, names_api=True),
    )
    print(
        f"{args.updates} updates, enterprise preset (burst 50, 16/s), parallelism 4: "
        f"{elapsed:.2f} s; floor {floor:.2f} s; {against_floor(elapsed, floor)} (target <= 1.15)"
    )
    print(f"  requests {sent}, 429s {limited} ({limited / max(sent, 1):.1%}; target <= 2%)")
    created_in, create_requests, create_limited, secrets = made
    writes = create_requests - create_limited
    create_floor = max(writes - 50, 0) / 16
    print(
        f"{args.creates} creates ({secrets} with a secret delivered), enterprise preset, "
        f"parallelism 4: {created_in:.2f} s; {writes} writes "
        f"({writes / args.creates:.2f} per app); floor {create_floor:.2f} s; "
        f"{against_floor(created_in, create_floor)}; 429s {create_limited}"
    )
    if distant:
        report_at_distance(distant, args.latency / 1000)
    if costs:
        first, last = costs[0], costs[9_900]
        print(
            f"serve, one page of 100 clients as the read asks it (median of {PAGE_SAMPLES}, "
            "straight): offset 0 "
            f"{first * 1000:.1f} ms, offset 9,900 {last * 1000:.1f} ms; "
            f"{max(first, last) / min(first, last):.2f}x (target <= 2)"
        )


if __name__ == "__main__":
    main()
