"""Edge cases of the Auth0 backend against a mock transport (the real peer is `serve`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError, InputError, RegistryError
from reconciler.registries.auth0.paging import quiet_requests
from reconciler.registries.auth0.ratelimit import RateGovernor
from reconciler.registries.auth0.registry import ManagementApi, RetryPolicy, TokenSource, open_auth0

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "https://tenant.example.auth0.com"


def api(handler: Handler, **retry: Any) -> tuple[ManagementApi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t0k", "expires_in": 86400})
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(recording))
    tokens = TokenSource(client, BASE, client_id="mgmt", client_secret="s")
    clock = FakeClock()
    management = ManagementApi(
        client,
        BASE,
        tokens,
        governor=RateGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock),
        retry=RetryPolicy(**{"base_delay": 0.0, **retry}),
        sleep=clock.sleep,
    )
    return management, seen


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def clients(n: int) -> list[dict[str, Any]]:
    return [{"client_id": f"id{i:05d}", "name": f"app {i}", "app_type": "spa"} for i in range(n)]


def paged(all_clients: list[dict[str, Any]]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        per_page = int(request.url.params["per_page"])
        chunk = all_clients[page * per_page : (page + 1) * per_page]
        return httpx.Response(
            200,
            json={
                "total": len(all_clients),
                "start": page * per_page,
                "limit": per_page,
                "clients": chunk,
            },
        )

    return handle


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 5000])
def test_one_paged_pass_sees_every_client(count: int) -> None:
    management, seen = api(paged(clients(count)))
    listed = management.all_clients()
    assert [c["client_id"] for c in listed] == [c["client_id"] for c in clients(count)]
    pages = [r for r in seen if r.url.path == "/api/v2/clients"]
    assert len(pages) == quiet_requests(count)
    assert all(
        int(r.url.params["per_page"]) <= 100 and r.url.params["is_global"] == "false" for r in pages
    )


def test_a_total_the_pages_never_reach_is_an_error() -> None:
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "total": 150,
                "start": 0,
                "limit": 100,
                "clients": clients(100) if request.url.params["page"] == "0" else [],
            },
        )

    management, _ = api(short)
    with pytest.raises(RegistryError, match="clients kept changing while they were read"):
        management.all_clients()


def test_429_waits_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"retry-after": "0"}, json={"statusCode": 429}),
            httpx.Response(200, json={"client_id": "x"}),
        ]
    )
    management, _ = api(lambda r: next(answers))
    assert management.patch_client("x", {"name": "n"}) == {"client_id": "x"}
    assert management.rate_limited == 1


def test_rate_limit_wait_is_bounded() -> None:
    management, _ = api(
        lambda r: httpx.Response(429, headers={"retry-after": "30"}), max_rate_limit_wait=60
    )
    with pytest.raises(RegistryError, match="still rate limited"):
        management.patch_client("x", {})


def test_5xx_is_retried_a_bounded_number_of_times() -> None:
    management, seen = api(
        lambda r: httpx.Response(
            502, json={"statusCode": 502, "error": "Bad Gateway", "message": "upstream"}
        ),
        attempts=3,
    )
    with pytest.raises(ApiError, match="upstream"):
        management.patch_client("x", {})
    assert len([r for r in seen if r.method == "PATCH"]) == 3


def test_create_with_unknown_outcome_is_found_by_its_stamp_not_sent_twice() -> None:
    created = {
        "client_id": "new1",
        "client_metadata": {"reconciler_owner": "o", "reconciler_key": "k"},
    }
    posts: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(
                500, json={"statusCode": 500, "error": "Internal Server Error", "message": "boom"}
            )
        return paged([created])(request)

    management, _ = api(handle)
    body = {"name": "n", "client_metadata": {"reconciler_owner": "o", "reconciler_key": "k"}}
    assert management.create_client(body)["client_id"] == "new1"
    assert len(posts) == 1


def test_create_that_never_reached_the_server_is_retried() -> None:
    calls = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"client_id": "new1"})

    management, _ = api(handle)
    assert management.create_client({"name": "n"}) == {"client_id": "new1"}


def test_403_names_the_missing_scope() -> None:
    body = {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: delete:clients",
        "errorCode": "insufficient_scope",
    }
    management, _ = api(lambda r: httpx.Response(403, json=body))
    with pytest.raises(ApiError, match="delete:clients") as caught:
        management.delete_client("x")
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("call", "scope"),
    [
        (lambda m: m.rotate_secret("x"), "update:client_keys"),
        (lambda m: m.list_credentials("x"), "read:client_credentials"),
        (lambda m: m.create_credential("x", {}), "create:client_credentials"),
        (lambda m: m.patch_client("x", {}), "update:clients"),
    ],
)
def test_the_403_hint_names_the_scope_of_the_route(
    call: Callable[[ManagementApi], Any], scope: str
) -> None:
    body = {"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope"}
    management, _ = api(lambda r: httpx.Response(403, json=body))
    with pytest.raises(ApiError) as caught:
        call(management)
    assert f"grant the management client the {scope} scope" in str(caught.value)


def test_token_is_cached_and_refreshed_after_401() -> None:
    answers = iter(
        [
            httpx.Response(200, json={}),
            httpx.Response(401, json={"message": "Expired token"}),
            httpx.Response(200, json={}),
        ]
    )
    management, seen = api(lambda r: next(answers))
    management.patch_client("a", {})
    management.patch_client("b", {})
    assert len([r for r in seen if r.url.path == "/oauth/token"]) == 2
    assert json.loads(seen[0].content)["audience"] == f"{BASE}/api/v2/"


def test_missing_credentials_are_a_clear_input_error() -> None:
    with pytest.raises(InputError, match="AUTH0_CLIENT_ID"):
        open_auth0("auth0://t.example.com", environ={})


def test_an_answer_that_is_not_json_is_a_clear_registry_error() -> None:
    management, _ = api(lambda r: httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(RegistryError, match="is not JSON: '<html>proxy login</html>'"):
        management.patch_client("x", {})
