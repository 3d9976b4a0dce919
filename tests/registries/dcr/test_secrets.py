"""DCR secrets: a create records ``pending``, delivery clears it in the state alone, and the
secret can be read back (RFC 7592 read) but not rotated (node-oidc-provider 9 keeps it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryError
from reconciler.registries.base import ReadsSecrets, RotatesSecrets
from reconciler.registries.dcr.registry import ROTATION_UNSUPPORTED, DcrRegistry, open_dcr
from tests.helpers import desired
from tests.registries.dcr.support import bearer, token_for

OWNER = "team"
WORKER = desired("worker", name="Settlement worker", type="m2m").comparable()


class Recorded:
    """A registry whose every HTTP request is written down (method, path)."""

    def __init__(self, issuer: str, state: Path) -> None:
        self.requests: list[tuple[str, str]] = []
        hooks = {"request": [lambda r: self.requests.append((r.method, r.url.path))]}
        self.http = httpx.Client(timeout=10.0, event_hooks=hooks)
        self.registry = open_dcr(f"dcr+{issuer}?state={state}", environ={}, client=self.http)


@pytest.fixture
def recorded(issuer: str, state_path: Path) -> Iterator[Recorded]:
    opened = Recorded(issuer, state_path)
    yield opened
    opened.registry.close()


def pending_stamp(key: str) -> Stamp:
    return Stamp.for_fields(OWNER, key, WORKER, pending=True)


def state_stamp(state_path: Path, issuer: str, key: str) -> Stamp | None:
    document = json.loads(state_path.read_text())
    return Stamp.read(document["issuers"][issuer]["apps"][key]["stamp"])


def test_a_create_is_recorded_pending_with_the_client(
    registry: DcrRegistry, state_path: Path, issuer: str
) -> None:
    created = registry.create(WORKER, [], pending_stamp("worker"))
    assert created.secret is not None
    stamp = state_stamp(state_path, issuer, "worker")
    assert stamp is not None and stamp.pending
    [listed] = registry.list_apps()
    assert listed.stamp is not None and listed.stamp.pending, "a plan sees it pending"


def test_delivery_clears_pending_in_the_state_without_a_request_to_the_server(
    recorded: Recorded, state_path: Path, issuer: str
) -> None:
    registry = recorded.registry
    created = registry.create(WORKER, [], pending_stamp("worker"))
    token = json.loads(state_path.read_text())["issuers"][issuer]["apps"]["worker"][
        "registration_access_token"
    ]
    recorded.requests.clear()
    stamp = pending_stamp("worker")
    delivered = registry.update(created.app, {}, stamp.delivered())
    assert recorded.requests == [], "a stamp-only write never reaches the server"
    assert delivered.stamp == stamp.delivered()
    held = json.loads(state_path.read_text())["issuers"][issuer]["apps"]["worker"]
    assert held["registration_access_token"] == token, "no PUT, so no rotated token"
    assert state_stamp(state_path, issuer, "worker") == stamp.delivered()
    [listed] = registry.list_apps()
    assert listed.stamp is not None and not listed.stamp.pending
    assert listed.fields["name"] == "Settlement worker"


def test_a_stamp_only_write_moves_a_renamed_key(registry: DcrRegistry, state_path: Path) -> None:
    created = registry.create(WORKER, [], pending_stamp("worker"))
    renamed = Stamp.for_fields(OWNER, "settlement", WORKER)
    registry.update(created.app, {}, renamed)
    assert list(registry.state.registrations()) == ["settlement"]


def test_read_secret_returns_the_secret_the_server_issued(
    registry: DcrRegistry, issuer: str
) -> None:
    assert isinstance(registry, ReadsSecrets)
    created = registry.create(WORKER, [], pending_stamp("worker"))
    assert created.secret is not None
    [listed] = registry.list_apps()
    assert registry.read_secret(listed) == created.secret
    granted = token_for(issuer, listed.client_id, created.secret)
    assert granted.status_code == 200, granted.text


def test_a_public_client_has_no_secret_to_read(registry: DcrRegistry) -> None:
    spa = desired(
        "spa", name="Dashboard", type="spa", callbacks=["https://dash.example.com/callback"]
    ).comparable()
    created = registry.create(spa, [], Stamp.for_fields(OWNER, "spa", spa))
    assert created.secret is None
    assert registry.read_secret(created.app) is None


def test_reading_the_secret_of_a_client_gone_from_the_server_says_what_to_do(
    registry: DcrRegistry, state_path: Path, issuer: str
) -> None:
    created = registry.create(WORKER, [], pending_stamp("worker"))
    held = json.loads(state_path.read_text())["issuers"][issuer]["apps"]["worker"]
    removed = httpx.delete(
        held["registration_client_uri"], headers=bearer(held["registration_access_token"])
    )
    assert removed.status_code == 204
    with pytest.raises(RegistryError, match="reconciler dcr forget worker"):
        registry.read_secret(created.app)


def test_the_secret_cannot_be_rotated_so_it_is_not_offered(
    registry: DcrRegistry, state_path: Path, issuer: str
) -> None:
    """node-oidc-provider 9 (lib/actions/registration.js, ``clientUpdateResponse``) keeps
    ``client_secret`` across an RFC 7592 PUT and refuses one that differs; RFC 7592 defines
    no rotation. So the backend does not claim RotatesSecrets, and says why."""
    created = registry.create(WORKER, [], pending_stamp("worker"))
    updated = registry.update(
        created.app, {"name": "Renamed worker"}, Stamp.for_fields(OWNER, "worker", WORKER)
    )
    assert registry.read_secret(updated) == created.secret, "a PUT kept the secret"
    held = json.loads(state_path.read_text())["issuers"][issuer]["apps"]["worker"]
    body = {"client_id": held["client_id"], "client_name": "x", "client_secret": "new-one"}
    put = httpx.put(
        held["registration_client_uri"],
        json=body,
        headers=bearer(held["registration_access_token"]),
    )
    assert put.status_code == 400 and "client_secret" in put.text
    assert not isinstance(registry, RotatesSecrets)
    assert registry.rotation_unsupported == ROTATION_UNSUPPORTED
    assert "RFC 7592 has no way" in ROTATION_UNSUPPORTED
