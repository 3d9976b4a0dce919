"""`reconciler apply` against a free tenant (``serve`` with the free plan's 10 applications):
the create past the limit stops the apply with a message that names the limit and the
plan, not a stack trace; the backend explains a refused grant or API the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.tenant.limits import PLANS
from tests.auth0_sdk import TlsServe
from tests.registries.auth0.test_unit import api

OWNER = "platform-team/free-tier"
AT_THE_LIMIT = "You reached the limit of entities of this type for this tenant."


@pytest.fixture
def free(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db", limits=PLANS["free"]) as served:
        yield served


def write_project(root: Path, count: int) -> None:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    apps = {
        f"app-{n:02d}": {
            "name": f"App {n:02d}",
            "type": "spa",
            "callbacks": [f"https://app-{n:02d}.example.com/callback"],
        }
        for n in range(count)
    }
    (root / "apps" / "generated.yaml").write_text(json.dumps({"apps": apps}, indent=1))


def test_an_apply_past_the_free_plans_10_apps_stops_saying_so(
    tmp_path: Path, free: TlsServe
) -> None:
    root = tmp_path / "repo"
    write_project(root, 12)

    process = free.reconciler(root, "apply", "--auto-approve")
    out, err = process.communicate(timeout=120)
    output = out + err

    assert process.returncode == 1, output
    assert AT_THE_LIMIT in output
    assert "the tenant holds 10 applications, the most Auth0's free plan allows" in output
    assert "Traceback" not in output
    # Running again meets the same limit: the report does not promise it converges.
    assert "Running apply again fails the same way for" in output
    assert "Run apply again: it converges" not in output
    assert len(list(free.tenant.all_clients())) == 10


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/v2/client-grants", "the tenant's plan allows no more client grants"),
        ("/api/v2/resource-servers", "the tenant's plan allows no more APIs"),
        ("/api/v2/clients/x/credentials", "allows no more application credentials"),
    ],
)
def test_a_create_refused_at_the_plans_limit_names_the_limits(path: str, named: str) -> None:
    body = {
        "statusCode": 403,
        "error": "Forbidden",
        "message": AT_THE_LIMIT,
        "errorCode": "too_many_entities",
    }
    management, seen = api(lambda request: httpx.Response(403, json=body))

    with pytest.raises(ApiError) as refused:
        if path == "/api/v2/client-grants":
            management.create_client_grant({"client_id": "x", "audience": "a"})
        elif path == "/api/v2/resource-servers":
            management.create_resource_server({"identifier": "https://a/"})
        else:
            management.create_credential("x", {})

    assert named in refused.value.message and "; Auth0's limits: " in refused.value.message
    assert [request.url.path for request in seen if request.url.path != "/oauth/token"] == [path]


def test_a_refused_app_create_counts_the_tenants_apps_to_name_the_plan() -> None:
    refusal = {
        "statusCode": 403,
        "error": "Forbidden",
        "message": AT_THE_LIMIT,
        "errorCode": "too_many_entities",
    }

    def tenant(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(403, json=refusal)
        return httpx.Response(200, json={"total": 100, "start": 0, "limit": 1, "clients": []})

    management, _ = api(tenant)

    with pytest.raises(ApiError) as refused:
        management.create_client({"name": "One too many"})

    assert (
        "the tenant holds 100 applications, the most Auth0's Essentials and Professional "
        "plans allow" in refused.value.message
    )
