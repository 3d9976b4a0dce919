"""Edge cases over a mock transport: discovery, URIs, refusals, faults, what is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.core.model import App
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.errors import ApiError, InputError, RegistryError
from reconciler.registries import open_registry
from reconciler.registries.dcr.http import NotSent, RegistrationApi
from reconciler.registries.dcr.registry import DcrRegistry, open_dcr
from reconciler.registries.dcr.state import StateFile
from tests.helpers import desired
from tests.registries.dcr.fake_server import FakeServer

OWNER = "team"
WORKER = desired("worker", name="Worker", type="m2m")


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def registry(server: FakeServer, tmp_path: Path) -> Iterator[DcrRegistry]:
    api = RegistrationApi(server.client(), server.issuer, sleep=lambda _: None)
    opened = DcrRegistry(f"dcr+{server.issuer}", api, StateFile(tmp_path / "s.json", api.issuer))
    yield opened
    opened.close()


def create(registry: DcrRegistry, key: str = "worker") -> App:
    spec = desired(key, name=key.title(), type="m2m")
    stamp = Stamp.for_fields(OWNER, key, spec.comparable())
    return registry.create(spec.comparable(), (), stamp).app


def held(registry: DcrRegistry, key: str) -> dict[str, Any]:
    state = json.loads(registry.state.path.read_text())
    entry: dict[str, Any] = state["issuers"][registry.issuer]["apps"][key]
    return entry


def test_discovery_falls_back_to_rfc8414_metadata_for_an_issuer_with_a_path(
    tmp_path: Path,
) -> None:
    issuer = "https://id.example.com/tenants/a"
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/.well-known/oauth-authorization-server/tenants/a":
            body = {"issuer": issuer, "registration_endpoint": f"{issuer}/register"}
            return httpx.Response(200, json=body)
        return httpx.Response(404)

    client = httpx.Client(transport=httpx.MockTransport(handle))
    registry = open_dcr(f"dcr+{issuer}", client=client, root=tmp_path, environ={})
    assert registry.api.discover().registration_endpoint == f"{issuer}/register"
    assert seen == [
        f"{issuer}/.well-known/openid-configuration",
        "https://id.example.com/.well-known/oauth-authorization-server/tenants/a",
    ]
    registry.close()


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"issuer": "https://other.example.com"}, "names the issuer"),
        ({"issuer": "https://id.example.com"}, "does not offer dynamic client registration"),
        (
            {
                "issuer": "https://id.example.com",
                "registration_endpoint": "http://id.example.com/r",
            },
            "must be https",
        ),
    ],
)
def test_discovery_refuses_what_it_cannot_use(
    server: FakeServer, registry: DcrRegistry, metadata: dict[str, Any], message: str
) -> None:
    server.metadata = metadata
    with pytest.raises(RegistryError, match=message):
        registry.list_apps()


def test_registry_uris(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="plain http only for loopback"):
        open_dcr("dcr+http://id.example.com", environ={})
    with pytest.raises(InputError, match="unknown parameter"):
        open_dcr("dcr+https://id.example.com?stat=x", environ={})
    with pytest.raises(InputError, match="unsupported registry"):
        open_registry("dcr://id.example.com")

    def state_of(uri: str, environ: dict[str, str]) -> Path:
        registry = open_dcr(uri, environ=environ, root=tmp_path)
        registry.close()
        return registry.state.path

    default = state_of("dcr+https://id.example.com", {})
    assert default == tmp_path / ".reconciler" / "dcr-state.json"
    from_env = state_of("dcr+https://id.example.com", {"RECONCILER_DCR_STATE": "e.json"})
    assert from_env == tmp_path / "e.json"
    from_uri = state_of(
        "dcr+https://id.example.com/?state=/x/q.json", {"RECONCILER_DCR_STATE": "e"}
    )
    assert from_uri == Path("/x/q.json")
    loopback = open_registry("dcr+http://127.0.0.1:9/")
    assert isinstance(loopback, DcrRegistry) and loopback.issuer == "http://127.0.0.1:9"
    loopback.close()


def test_a_refused_registration_names_the_app_and_leaves_no_orphan(
    server: FakeServer, registry: DcrRegistry
) -> None:
    refusal = {"error": "invalid_redirect_uri", "error_description": "redirect_uris is mandatory"}
    server.fail("POST", "/reg", lambda _: httpx.Response(400, json=refusal))
    with pytest.raises(ApiError) as raised:
        create(registry)
    assert raised.value.status == 400
    assert "registering app 'worker'" in str(raised.value)
    assert "redirect_uris is mandatory" in str(raised.value)
    assert registry.orphans() == []


def test_a_registration_that_never_left_is_no_orphan_but_an_unanswered_one_is(
    server: FakeServer, registry: DcrRegistry
) -> None:
    def refuse_connection(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    for _ in range(3):
        server.fail("POST", "/reg", refuse_connection)
    with pytest.raises(NotSent):
        create(registry)
    assert registry.orphans() == []

    def lose_answer(request: httpx.Request) -> httpx.Response:
        server.handle(request)  # the server registers the client...
        raise httpx.ReadTimeout("timed out", request=request)  # ...the answer is lost

    server.fail("POST", "/reg", lose_answer)
    with pytest.raises(RegistryError, match="whether the server applied it is unknown"):
        create(registry)
    [orphan] = registry.orphans()
    assert (orphan.key, orphan.registration_endpoint) == ("worker", f"{server.issuer}/reg")
    assert orphan.client_name == "Worker" and "possible orphan" in orphan.orphan_message()
    assert len(server.clients) == 1 and registry.list_apps() == []

    with registry.lock():  # compaction keeps what is still unexplained
        pass
    assert registry.orphans() == [orphan]
    registry.dismiss_orphans([orphan.id])
    assert registry.orphans() == []


def test_a_server_error_on_registration_is_a_possible_orphan(
    server: FakeServer, registry: DcrRegistry
) -> None:
    server.fail("POST", "/reg", lambda _: httpx.Response(500, json={"error": "server_error"}))
    with pytest.raises(ApiError):
        create(registry)
    assert [o.key for o in registry.orphans()] == ["worker"]


def test_an_orphan_says_which_client_a_later_apply_registered_for_its_key(
    server: FakeServer, registry: DcrRegistry
) -> None:
    server.fail("POST", "/reg", lambda _: httpx.Response(500, json={"error": "server_error"}))
    with pytest.raises(ApiError):
        create(registry)
    [before] = registry.orphans()
    assert before.replaced_by is None and "Apply registers a new client" in before.orphan_message()
    created = create(registry)
    [after] = registry.orphans()
    assert after.id == before.id and after.replaced_by == created.client_id
    message = after.orphan_message()
    assert f"A later apply registered client {created.client_id}" in message
    assert "Apply registers a new client" not in message


def test_an_update_sends_full_metadata_never_management_members(
    server: FakeServer, registry: DcrRegistry
) -> None:
    create(registry)
    [app] = registry.list_apps()
    renamed = desired("worker", name="Renamed", type="m2m")
    stamp = Stamp.for_fields(OWNER, "worker", renamed.comparable())
    registry.update(app, {"name": "Renamed"}, stamp)
    [put] = [r for r in server.requests if r.method == "PUT"]
    body = json.loads(put.content)
    assert body["client_id"] == app.client_id and body["client_name"] == "Renamed"
    assert body["subject_type"] == "public", "what the server filled in is sent back"
    assert body["grant_types"] == ["client_credentials"], "unchanged members are sent too"
    for member in (
        "registration_access_token",
        "registration_client_uri",
        "client_id_issued_at",
        "client_secret_expires_at",
        "client_secret",
        "reconciler_dcr",
    ):
        assert member not in body
    assert held(registry, "worker")["registration_access_token"] == server.tokens[app.client_id]


def test_an_update_whose_answer_is_lost_is_not_resent(
    server: FakeServer, registry: DcrRegistry
) -> None:
    create(registry)
    [app] = registry.list_apps()

    def lose_answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    server.fail("PUT", "/reg/", lose_answer)
    stamp = Stamp.for_fields(OWNER, "worker", {"name": "x"})
    with pytest.raises(RegistryError, match="unknown"):
        registry.update(app, {"name": "x"}, stamp)
    assert sum(r.method == "PUT" for r in server.requests) == 1


def test_a_token_rotated_on_read_is_kept_at_once(server: FakeServer, registry: DcrRegistry) -> None:
    create(registry)
    server.rotate_on_read = True
    for _ in range(3):
        [app] = registry.list_apps()
        assert held(registry, "worker")["registration_access_token"] == server.tokens[app.client_id]
        assert app.record["reconciler_dcr"]["status"] == "registered"


def test_reads_are_retried_on_transient_errors(server: FakeServer, registry: DcrRegistry) -> None:
    create(registry)
    server.fail("GET", "/reg/", lambda _: httpx.Response(503))
    server.fail("GET", "/reg/", lambda _: httpx.Response(502))
    [app] = registry.list_apps()
    assert app.fields["name"] == "Worker"
    server.fail("GET", "/reg/", lambda _: httpx.Response(403, json={"error": "forbidden"}))
    with pytest.raises(ApiError, match="reading app 'worker'"):
        registry.list_apps()


def test_a_server_that_refuses_deletion_says_so(server: FakeServer, registry: DcrRegistry) -> None:
    create(registry)
    [app] = registry.list_apps()
    server.fail("DELETE", "/reg/", lambda _: httpx.Response(405))
    with pytest.raises(ApiError, match="does not allow clients to be deleted") as raised:
        registry.delete(app)
    assert raised.value.status == 405
    assert [a.client_id for a in registry.list_apps()] == [app.client_id], "still managed"
    registry.delete(app)
    assert registry.list_apps() == [] and server.clients == {}


def test_fields_the_server_answers_without_are_said_once_and_never_planned(
    server: FakeServer, registry: DcrRegistry
) -> None:
    server.unheld = {"policy_uri", "tos_uri"}
    pages = {
        "policy_uri": "https://web.example.com/privacy",
        "tos_uri": "https://web.example.com/terms",
        "client_uri": "https://web.example.com/",
    }
    spec = desired("web", name="Web", type="regular_web", **pages)
    registry.create(spec.comparable(), (), Stamp.for_fields(OWNER, "web", spec.comparable()))

    assert plan([spec], registry.list_apps(), owner=OWNER, registry=registry.uri).is_empty
    [note] = registry.header_notes()
    assert note.kind == "unheld" and not note.refuses_creates
    assert note.message.startswith(
        "https://id.example.com does not hold policy_uri (web); tos_uri (web): it answered "
        "without them"
    )
    moved = desired(
        "web", name="Web", type="regular_web", **{**pages, "tos_uri": "https://t.example/"}
    )
    [change] = plan([moved], registry.list_apps(), owner=OWNER, registry=registry.uri).changes
    assert [field.path for field in change.diff] == ["tos_uri"], "a new value is sent again"


def test_create_refuses_a_key_the_state_already_holds(registry: DcrRegistry) -> None:
    create(registry)
    with pytest.raises(RegistryError, match="already holds client"):
        create(registry)


def test_leftovers_of_killed_writers_are_cleaned_and_torn_journal_lines_skipped(
    registry: DcrRegistry,
) -> None:
    create(registry)
    state = registry.state.path
    stale = state.with_name(f".{state.name}.abc123.tmp")
    stale.write_text("{half")
    torn = '{"op": "create", "id": "torn", "ke'
    with registry.journal.path.open("a") as journal:
        journal.write(torn)  # what a kill in the middle of an append could leave
    create(registry, "second")
    lines = registry.journal.path.read_text().splitlines()
    assert torn in lines, "the next append starts on a line of its own"
    assert all(json.loads(line) for line in lines if line != torn)
    assert registry.orphans() == []
    with registry.lock():
        assert not stale.exists()
    assert registry.journal.path.read_text() == "", "resolved intents are compacted away"
    assert sorted(held(registry, k)["client_id"] for k in ("worker", "second")) == [
        "client-1",
        "client-2",
    ]
