"""The apply lease in the tenant (reconciler/registries/lease.py) against serve.

The mutex is Auth0's unique resource-server ``identifier``: a second POST with the
same identifier answers 409 (auth0-python ``management/resource_servers/raw_client.py``
raises ConflictError for it; tests/registries/test_tenant_resource_servers.py holds the
tenant side).
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.errors import RegistryBusyError, RegistryError
from reconciler.registries.auth0.lease import LEASE_IDENTIFIER, Holder, LeaseLostError, TenantLease
from reconciler.registries.auth0.registry import ManagementApi, open_auth0
from tests.auth0_sdk import TlsServe


@pytest.fixture
def api(served: TlsServe) -> Iterator[ManagementApi]:
    registry = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret},
        verify=ssl.create_default_context(cafile=served.ca_file),
        lock=False,
    )
    management = registry.api
    assert isinstance(management, ManagementApi)
    yield management
    registry.close()


def lease(api: Any, messages: list[str] | None = None, **settings: Any) -> TenantLease:
    sink = messages if messages is not None else []
    return TenantLease(api, tenant="tenant.test", poll_seconds=0.05, notify=sink.append, **settings)


def poll(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def test_taking_and_releasing_the_lease(api: ManagementApi) -> None:
    with lease(api).held():
        found = api.resource_server_by_identifier(LEASE_IDENTIFIER)
        assert found is not None
        holder = Holder.parse(found["name"])
        assert holder is not None and holder.pid == os.getpid()
    assert api.resource_server_by_identifier(LEASE_IDENTIFIER) is None


def test_a_second_apply_waits_says_who_holds_it_then_takes_it(api: ManagementApi) -> None:
    messages: list[str] = []
    took = threading.Event()

    def second() -> None:
        with lease(api, messages, wait_seconds=30).held():
            took.set()

    with lease(api).held():
        waiter = threading.Thread(target=second)
        waiter.start()
        poll(lambda: any("waiting for the apply lease held by" in m for m in messages))
        assert not took.is_set()
    waiter.join(10)
    assert took.is_set()
    (waiting,) = [m for m in messages if m.startswith("waiting")]
    assert f"pid {os.getpid()} since " in waiting and "--lock-timeout" in waiting
    assert any(m.startswith("took the apply lease") for m in messages)


def test_waiting_is_bounded_by_the_lock_timeout(api: ManagementApi) -> None:
    with lease(api).held(), pytest.raises(RegistryBusyError) as raised:
        with lease(api, wait_seconds=0.2).held():
            pass
    message = str(raised.value)
    assert "another apply holds the apply lease" in message and "--lock-timeout" in message


def test_an_expired_lease_is_taken_over(api: ManagementApi) -> None:
    stale = Holder("other-runner", 4242, time.time() - 300, time.time() - 100)
    api.create_resource_server({"identifier": LEASE_IDENTIFIER, "name": stale.name()})
    messages: list[str] = []
    with lease(api, messages, wait_seconds=5).held():
        holder = Holder.parse(api.resource_server_by_identifier(LEASE_IDENTIFIER)["name"])  # type: ignore[index]
        assert holder is not None and holder.pid == os.getpid()
    assert any("abandoned by other-runner pid 4242" in m for m in messages)


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(
    api: ManagementApi,
) -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    me = Holder.me(time.time(), 600)
    dead = Holder(me.host, gone.pid, me.since, me.until)  # not expired
    api.create_resource_server({"identifier": LEASE_IDENTIFIER, "name": dead.name()})
    with lease(api, wait_seconds=0.5).held():
        pass


def test_a_dead_pid_in_another_container_of_the_same_name_is_not_taken_over(
    api: ManagementApi,
) -> None:
    """Containers on two machines may share a host name and pids: the pid is judged only
    where the boot id and pid namespace are also this process's."""
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    me = Holder.me(time.time(), 600)
    name = me.host.split("/")[0]
    elsewhere = Holder(f"{name}/00000000", gone.pid, me.since, me.until)
    api.create_resource_server({"identifier": LEASE_IDENTIFIER, "name": elsewhere.name()})
    with pytest.raises(RegistryBusyError):
        with lease(api, wait_seconds=0.5).held():
            pass


def test_a_waiter_never_deletes_a_newer_lease_than_the_expired_one_it_read(
    api: ManagementApi,
) -> None:
    stale = Holder("other-runner", 1, time.time() - 300, time.time() - 100)
    old = api.create_resource_server({"identifier": LEASE_IDENTIFIER, "name": stale.name()})
    api.delete_resource_server(old["id"])
    live = Holder("new-runner", 2, time.time(), time.time() + 600)
    newer = api.create_resource_server({"identifier": LEASE_IDENTIFIER, "name": live.name()})

    class StaleFirstRead:
        """Answers the first read with the expired lease, as a read just before the swap."""

        def __init__(self) -> None:
            self.reads = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(api, name)

        def resource_server_by_identifier(self, identifier: str) -> dict[str, Any] | None:
            self.reads += 1
            return old if self.reads == 1 else api.resource_server_by_identifier(identifier)

    with pytest.raises(RegistryBusyError, match="new-runner pid 2"):
        with lease(StaleFirstRead(), wait_seconds=0.3).held():
            pass
    assert api.resource_server_by_identifier(LEASE_IDENTIFIER)["id"] == newer["id"]  # type: ignore[index]


def test_a_holder_whose_lease_was_removed_starts_no_new_write(api: ManagementApi) -> None:
    held = lease(api)
    with held.held():
        held.check()
        found = api.resource_server_by_identifier(LEASE_IDENTIFIER)
        assert found is not None
        api.delete_resource_server(found["id"])
        held._renew()  # the heartbeat's next beat, now
        with pytest.raises(LeaseLostError, match="removed from the tenant"):
            held.check()


def test_a_holder_that_could_not_renew_within_the_ttl_has_lost_it(api: ManagementApi) -> None:
    now = [0.0]
    held = lease(api, ttl=60.0, clock=lambda: now[0])
    with held.held():
        now[0] = 61.0
        with pytest.raises(LeaseLostError, match="could not be renewed"):
            held.check()


def test_the_heartbeat_renews_the_lease(api: ManagementApi) -> None:
    with lease(api, ttl=0.6).held():
        first = api.resource_server_by_identifier(LEASE_IDENTIFIER)
        assert first is not None
        poll(lambda: api.resource_server_by_identifier(LEASE_IDENTIFIER)["name"] != first["name"])  # type: ignore[index]


def test_a_lease_whose_create_answer_was_lost_is_known_as_its_own(
    api: ManagementApi, served: TlsServe
) -> None:
    """A 500 after the write: the retry meets 409 from this very run's lease."""
    served.inject(status=500, after=True, method="POST", path_prefix="/api/v2/resource-servers")
    messages: list[str] = []
    with lease(api, messages, wait_seconds=1).held():
        held = api.resource_server_by_identifier(LEASE_IDENTIFIER)
        holder = Holder.parse(held["name"]) if held else None
        assert holder is not None and holder.pid == os.getpid()
    assert any("this very run" in m for m in messages), messages
    assert not any("waiting" in m for m in messages), messages
    assert api.resource_server_by_identifier(LEASE_IDENTIFIER) is None


def test_a_token_without_the_resource_server_scopes_names_them_and_no_lock(
    served: TlsServe,
) -> None:
    token = served.token("read:clients create:clients")
    registry = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_TOKEN": token},
        verify=ssl.create_default_context(cafile=served.ca_file),
    )
    try:
        with pytest.raises(RegistryError) as raised, registry.lock():
            pass
    finally:
        registry.close()
    message = str(raised.value)
    assert "create:resource_servers" in message and "delete:resource_servers" in message
    assert "--no-lock" in message
