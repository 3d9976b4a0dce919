"""The Auth0 backend against `reconciler serve` (real HTTP over loopback).

Prints: requests and time for a no-change plan of 10,000 apps, then of the same apps with
a client grant each (10,000 grants, seeded through serve's ``/__control/seed`` and declared
as each app's ``apis``), both against the read formula W(N) + ceil(G/take) + a constant
(every client window, which overlap so that no client is skipped: W(10,000) = 114, then
every grant page, then one request each for the token, the connections and, when a
manifest names an API, the APIs), counted by route in serve's
request log; the time for 200 updates under the `enterprise` preset (burst 50, 16/s)
against the bucket's floor of (200 - 50) / 16 s (target: within 15%), and the 429s
received (target: at most 2% of requests).

Also the creates of N apps under the same preset: requests per create (a confidential app
costs a second write, the one that records that its secret reached --secrets-out) and the
time against the bucket's floor for that many writes.

Usage: python bench/auth0.py [--apps N] [--updates N] [--creates N]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from validate import write_manifests  # noqa: E402

from reconciler.apply.applier import apply_plan  # noqa: E402
from reconciler.apply.secrets import SecretsFile  # noqa: E402
from reconciler.core.stamp import OWNER_KEY  # noqa: E402
from reconciler.manifests.workspace import Options, Workspace  # noqa: E402
from reconciler.pipeline import load_desired, read_and_plan  # noqa: E402
from reconciler.registries.auth0.paging import quiet_requests  # noqa: E402
from reconciler.registries.auth0.registry import PAGE_SIZE, ManagementApi, open_auth0  # noqa: E402
from reconciler.registries.sqlite import open_sqlite  # noqa: E402
from reconciler.server import Server  # noqa: E402
from reconciler.tenant.engine import Tenant  # noqa: E402

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
    apps: every client window, every grant page (a list of none is one page), then one
    each for the token, the connections, each connection's enabled clients and, when a
    manifest names an API, the APIs."""
    constant = ["token", "connections"]
    if connections:
        constant.append(f"the clients of {connections} connection{'s' * (connections > 1)}")
    if names_api:
        constant.append("APIs")
    count = 2 + connections + int(names_api)
    client_pages = quiet_requests(apps)
    grant_pages = max(1, math.ceil(grants / PAGE_SIZE))
    text = (
        f"W(N) + ceil(G/take {PAGE_SIZE}) + {count} = "
        f"{client_pages} + {grant_pages} + {count} ({', '.join(constant)})"
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--creates", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "plan"
        project(big, args.apps, "auth0://bench")
        seed_by_applying(big)
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
    floor = (args.updates - 50) / 16
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
        f"{elapsed:.2f} s; floor {floor:.2f} s; {elapsed / floor:.2f} x floor (target <= 1.15)"
    )
    print(f"  requests {sent}, 429s {limited} ({limited / max(sent, 1):.1%}; target <= 2%)")
    created_in, create_requests, create_limited, secrets = made
    writes = create_requests - create_limited
    create_floor = max(writes - 50, 0) / 16
    print(
        f"{args.creates} creates ({secrets} with a secret delivered), enterprise preset, "
        f"parallelism 4: {created_in:.2f} s; {writes} writes "
        f"({writes / args.creates:.2f} per app); floor {create_floor:.2f} s; "
        f"{created_in / max(create_floor, 1e-9):.2f} x floor; 429s {create_limited}"
    )


if __name__ == "__main__":
    main()
