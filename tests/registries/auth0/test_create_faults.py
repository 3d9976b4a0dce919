"""Creates under faults, secrets read back and rotated: the Auth0 backend against serve.

Real HTTP(S) over loopback; the apps are counted with auth0-python (tests/auth0_sdk.py),
not with the backend under test. Faults come from serve's /__control/inject, before or
``after`` the write commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryError
from reconciler.registries.auth0.registry import CreateInDoubtError, RetryPolicy, open_auth0
from reconciler.registries.clients import ClientsRegistry
from tests.auth0_sdk import SdkReader, TlsServe

OWNER = "team/faults"
FIELDS = {
    "name": "Faulty",
    "app_type": "regular_web",
    "token_endpoint_auth_method": "client_secret_post",
    "callbacks": ["https://faulty.example.com/cb"],
}


_OPENED: list[ClientsRegistry] = []


@pytest.fixture(autouse=True)
def close_registries() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def registry(
    served: TlsServe, *, timeout: float = 30.0, token: str | None = None
) -> ClientsRegistry:
    """An auth0:// registry on ``served`` (closed when the test ends)."""
    credentials = (
        {"AUTH0_TOKEN": token}
        if token
        else {"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret}
    )
    opened = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ=credentials,
        verify=_context(served),
        timeout=timeout,
        lock=False,
        retry=RetryPolicy(base_delay=0.02, max_delay=0.2, in_doubt_wait=timeout),
    )
    _OPENED.append(opened)
    return opened


def _context(served: TlsServe) -> object:
    import ssl

    return ssl.create_default_context(cafile=served.ca_file)


def create(target: ClientsRegistry, key: str = "faulty") -> tuple[str, str | None]:
    stamp = Stamp.for_fields(owner=OWNER, key=key, fields=FIELDS, pending=True)
    created = target.create(FIELDS, (), stamp)
    return created.app.client_id, created.secret


def logged_creates(served: TlsServe, *, at_least: int) -> list[dict[str, object]]:
    """The POST /clients in serve's log, once ``at_least`` have been answered (polled)."""
    import time

    deadline = time.monotonic() + 10
    with served.http() as http:
        while True:
            posts = [
                entry
                for entry in http.get(f"{served.base_url}/__control/requests").json()["requests"]
                if entry["method"] == "POST" and entry["path"] == "/api/v2/clients"
            ]
            if len(posts) >= at_least or time.monotonic() > deadline:
                return posts
            time.sleep(0.05)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_after_the_write_committed_adopts_the_app(
    served: TlsServe, reader: SdkReader, status: int
) -> None:
    served.inject(status=status, after=True, method="POST", path_prefix="/api/v2/clients")
    client_id, secret = create(registry(served))

    assert reader.duplicates(OWNER) == {}
    assert [c["client_id"] for c in reader.apps_by_key(OWNER)["faulty"]] == [client_id]
    assert secret == reader.secret(client_id)  # the listed body carried it (read:client_keys)


def test_a_5xx_before_the_write_is_sent_again_and_makes_one_app(
    served: TlsServe, reader: SdkReader
) -> None:
    served.inject(status=500, count=2, method="POST", path_prefix="/api/v2/clients")
    client_id, secret = create(registry(served))

    assert [c["client_id"] for c in reader.apps_by_key(OWNER)["faulty"]] == [client_id]
    assert secret is not None and secret == reader.secret(client_id)


def test_5xx_that_never_end_fail_the_change_saying_nothing_was_created(
    served: TlsServe, reader: SdkReader
) -> None:
    served.inject(status=500, count=50, method="POST", path_prefix="/api/v2/clients")
    with pytest.raises(RegistryError, match="nothing was created, the next apply creates it"):
        create(registry(served))
    assert reader.apps_by_key(OWNER) == {}


def test_an_answer_after_the_client_timeout_is_found_with_its_secret(
    served: TlsServe, reader: SdkReader
) -> None:
    served.inject(delay=2.0, after=True, method="POST", path_prefix="/api/v2/clients")
    client_id, secret = create(registry(served, timeout=0.5))

    assert [c["client_id"] for c in reader.apps_by_key(OWNER)["faulty"]] == [client_id]
    assert secret is not None and secret == reader.secret(client_id)


@pytest.mark.slow  # holds the create past the client's timeout
def test_a_create_that_never_lands_is_in_doubt_and_the_next_run_creates_it(
    served: TlsServe, reader: SdkReader
) -> None:
    # Held past the client's timeout, then refused: the write never happens.
    served.inject(status=503, delay=1.5, method="POST", path_prefix="/api/v2/clients")
    with pytest.raises(CreateInDoubtError) as raised:
        create(registry(served, timeout=0.3))
    message = str(raised.value)
    assert "'faulty'" in message and "the outcome is unknown" in message
    assert "It was not sent again" in message and "adopts it" in message
    assert len(logged_creates(served, at_least=1)) == 1  # never re-sent in the same run

    client_id, _ = create(registry(served))
    assert [c["client_id"] for c in reader.apps_by_key(OWNER)["faulty"]] == [client_id]


@pytest.mark.slow  # waits out the Retry-After the server sends
def test_429_with_and_without_retry_after_on_every_route(
    served: TlsServe, reader: SdkReader
) -> None:
    target = registry(served)
    served.inject(status=429, retry_after=1, method="POST")
    served.inject(status=429, retry_after=None, method="GET")
    served.inject(status=429, retry_after=None, method="PATCH")
    served.inject(status=429, retry_after=1, method="DELETE")
    client_id, _ = create(target)
    (app,) = [a for a in target.list_apps() if a.client_id == client_id]
    stamp = Stamp.for_fields(owner=OWNER, key="faulty", fields=FIELDS)
    target.update(app, {"name": "Renamed"}, stamp)
    assert reader.apps_by_key(OWNER)["faulty"][0]["name"] == "Renamed"
    target.delete(app)
    assert reader.apps_by_key(OWNER) == {}
    with served.http() as http:
        statuses = [
            e["status"]
            for e in http.get(f"{served.base_url}/__control/requests").json()["requests"]
        ]
    assert statuses.count(429) == 4


def test_read_secret_needs_read_client_keys(served: TlsServe, reader: SdkReader) -> None:
    """Auth0 shows client_secret only to a token with read:client_keys (Management API
    reference, GET /api/v2/clients/{id}: "read:client_keys ... also client_secret";
    reference/auth0-management-api.md §2); serve does the same (clients_api.readable_client)."""
    client_id, secret = create(registry(served))
    (app,) = [a for a in registry(served).list_apps() if a.client_id == client_id]

    assert registry(served).read_secret(app) == secret == reader.secret(client_id)
    without_keys = registry(served, token=served.token("read:clients"))
    assert without_keys.read_secret(app) is None
    summary_only = registry(served, token=served.token("read:client_summary"))
    assert summary_only.read_secret(app) is None


def test_read_secret_is_none_when_the_token_may_not_read_clients(served: TlsServe) -> None:
    client_id, _ = create(registry(served))
    (app,) = [a for a in registry(served).list_apps() if a.client_id == client_id]
    no_read = registry(served, token=served.token("create:clients"))
    assert no_read.read_secret(app) is None  # 403 insufficient_scope


def test_rotate_secret_replaces_it_and_needs_update_client_keys(
    served: TlsServe, reader: SdkReader
) -> None:
    """POST /api/v2/clients/{id}/rotate-secret needs update:client_keys and answers the
    client with its new secret (reference/auth0-management-api.md §2, go-auth0 recording
    TestClient_RotateSecret.yaml); serve enforces it in clients_api.rotate_secret."""
    client_id, old = create(registry(served))
    (app,) = [a for a in registry(served).list_apps() if a.client_id == client_id]

    new = registry(served).rotate_secret(app)
    assert new != old and new == reader.secret(client_id)
    limited = registry(served, token=served.token("read:clients update:clients"))
    with pytest.raises(RegistryError, match="update:client_keys"):
        limited.rotate_secret(app)
    assert reader.secret(client_id) == new


def test_the_embedded_registry_reads_and_rotates_secrets(tmp_path: Path) -> None:
    from reconciler.registries.sqlite import open_sqlite

    target = open_sqlite(f"sqlite:{tmp_path / 'r.db'}")
    created = target.create(FIELDS, (), Stamp.for_fields(owner=OWNER, key="k", fields=FIELDS))
    assert target.read_secret(created.app) == created.secret
    rotated = target.rotate_secret(created.app)
    assert rotated != created.secret and target.read_secret(created.app) == rotated
    target.close()


def test_serve_fault_after_commits_then_fails(served: TlsServe) -> None:
    """The serve side alone: the app exists although the client got a 500."""
    token = served.token("create:clients read:clients")
    served.inject(status=500, after=True, method="POST")
    with served.http() as http:
        answer = http.post(
            f"{served.base_url}/api/v2/clients",
            json={"name": "after"},
            headers={"Authorization": f"Bearer {token}"},
        )
        listed = http.get(
            f"{served.base_url}/api/v2/clients",
            params={"is_global": "false"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    assert answer.status_code == 500
    assert [c["name"] for c in listed if c["client_id"] != served.client_id] == ["after"]
    assert isinstance(answer, httpx.Response)
