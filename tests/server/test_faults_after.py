"""serve's injected faults that strike after the request was handled, and per method."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.server import Server
from reconciler.server.faults import parse_fault
from reconciler.tenant.engine import Tenant

ID, SECRET = "faultsManagementClient0000000aa", "faults-secret"


@pytest.fixture
def base() -> Iterator[str]:
    tenant = Tenant(":memory:")
    server = Server(tenant, client_id=ID, client_secret=SECRET)
    try:
        yield server.start()
    finally:
        server.stop()
        tenant.close()


def token(base: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": ID,
            "client_secret": SECRET,
            "audience": f"{base}/api/v2/",
        },
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def names(base: str, headers: dict[str, str]) -> list[str]:
    """The tenant's applications but serve's own management client, as Auth0 lists it."""
    listed = httpx.get(f"{base}/api/v2/clients", params={"is_global": "false"}, headers=headers)
    return [c["name"] for c in listed.json() if c["client_id"] != ID]


def test_a_500_after_the_write_leaves_the_app(base: str) -> None:
    headers = token(base)
    httpx.post(f"{base}/__control/inject", json={"status": 500, "after": True}).raise_for_status()
    answer = httpx.post(f"{base}/api/v2/clients", json={"name": "kept"}, headers=headers)
    assert answer.status_code == 500
    assert answer.json()["error"] == "Internal Server Error"
    assert names(base, headers) == ["kept"]


def test_a_500_before_the_write_leaves_nothing(base: str) -> None:
    headers = token(base)
    httpx.post(f"{base}/__control/inject", json={"status": 500}).raise_for_status()
    answer = httpx.post(f"{base}/api/v2/clients", json={"name": "lost"}, headers=headers)
    assert answer.status_code == 500 and names(base, headers) == []


def test_a_delay_after_the_write_times_the_client_out_but_the_app_exists(base: str) -> None:
    headers = token(base)
    httpx.post(f"{base}/__control/inject", json={"delay": 1.0, "after": True}).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{base}/api/v2/clients", json={"name": "late"}, headers=headers, timeout=0.2)
    assert names(base, headers) == ["late"]


def test_a_fault_for_one_method_spares_the_others(base: str) -> None:
    headers = token(base)
    httpx.post(
        f"{base}/__control/inject", json={"status": 503, "method": "POST"}
    ).raise_for_status()
    assert httpx.get(f"{base}/api/v2/clients", headers=headers).status_code == 200
    assert (
        httpx.post(f"{base}/api/v2/clients", json={"name": "x"}, headers=headers).status_code == 503
    )


def test_a_429_without_retry_after_still_says_when_the_bucket_resets(base: str) -> None:
    headers = token(base)
    httpx.post(
        f"{base}/__control/inject", json={"status": 429, "retry_after": None}
    ).raise_for_status()
    answer = httpx.get(f"{base}/api/v2/clients", headers=headers)
    assert answer.status_code == 429
    assert "retry-after" not in answer.headers and "x-ratelimit-reset" in answer.headers


@pytest.mark.parametrize(
    "body",
    [{"status": 500, "after": "yes"}, {"status": 500, "method": "TRACE"}, {"status": 418}],
)
def test_bad_fault_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ApiError):
        parse_fault(body)


def test_a_fault_can_skip_the_first_matching_requests(base: str) -> None:
    headers = token(base)
    httpx.post(
        f"{base}/__control/inject", json={"status": 503, "skip": 2, "method": "GET"}
    ).raise_for_status()
    statuses = [httpx.get(f"{base}/api/v2/clients", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 503, 200]


def test_meanwhile_another_writer_deletes_and_registers_clients(base: str) -> None:
    headers = token(base)
    first = httpx.post(f"{base}/api/v2/clients", json={"name": "first"}, headers=headers)
    httpx.post(f"{base}/api/v2/clients", json={"name": "second"}, headers=headers)
    httpx.post(
        f"{base}/__control/inject",
        json={
            "method": "GET",
            "path_prefix": "/api/v2/clients",
            "after": True,
            "meanwhile": {
                "delete_clients": [first.json()["client_id"]],
                "seed": {"clients": [{"name": "newcomer"}]},
            },
        },
    ).raise_for_status()

    assert names(base, headers) == ["first", "second"]  # answered before the change
    assert names(base, headers) == ["second", "newcomer"]


def test_meanwhile_before_the_request_is_seen_by_it(base: str) -> None:
    headers = token(base)
    httpx.post(
        f"{base}/__control/inject",
        json={"method": "GET", "meanwhile": {"seed": {"clients": [{"name": "early"}]}}},
    ).raise_for_status()
    assert names(base, headers) == ["early"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, "too_many_requests"),
        (500, "server_error"),
        (503, "temporarily_unavailable"),
    ],
)
def test_a_token_endpoint_fault_answers_oauths_error_shape(
    base: str, status: int, error: str
) -> None:
    httpx.post(
        f"{base}/__control/inject", json={"status": status, "path_prefix": "/oauth/token"}
    ).raise_for_status()
    answer = httpx.post(
        f"{base}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": ID,
            "client_secret": SECRET,
            "audience": f"{base}/api/v2/",
        },
    )
    assert answer.status_code == status
    assert answer.json()["error"] == error and answer.json()["error_description"]
    assert set(answer.json()) == {"error", "error_description"}


@pytest.mark.parametrize(
    "body",
    [
        {"meanwhile": {}},
        {"meanwhile": []},
        {"meanwhile": {"delete_clients": "abc"}},
        {"meanwhile": {"delete_clients": [""]}},
        {"meanwhile": {"seed": []}},
        {"meanwhile": {"rename": {}}},
        {"status": 500, "skip": -1},
    ],
)
def test_bad_tenant_changes_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ApiError):
        parse_fault(body)
