"""The apply lease on an Auth0 tenant: a mutex that lives in the tenant itself.

Two CI runners share nothing but the tenant, so the lock must be there. Auth0 resource
servers (APIs) have a unique ``identifier``, and ``POST /api/v2/resource-servers`` with
an identifier that exists answers 409: an atomic create-if-absent. The lease is the
resource server ``urn:reconciler:lease``; its ``name`` says who holds it and until when
(``reconciler apply lease: HOST pid N since T until E``), readable in the dashboard too.

- Taking it: create it. A 409 means someone holds it: read it; if it has expired, or
  its holder is a dead process on this host, delete *that* one by its id (a newer lease
  has another id, so it is never deleted) and try again; else say who holds it and wait,
  up to ``wait_seconds``, then fail with RegistryBusyError.
- Holding it: a heartbeat thread renews it (PATCH of the name) every ttl/3. A holder
  that could not renew within the ttl, or whose renewal finds the lease gone, has lost
  it: ``check()``, called before every write, then raises LeaseLostError.
- Releasing it: DELETE by id. A crash leaves it to expire (``ttl``), or to be taken over
  at once by the next apply on the same host.

One lease per tenant, whatever the owner: applies of two owners also take turns, which
costs little and needs no agreement about owner names. Clocks of the runners must agree
within ``_SKEW_SECONDS``; the holder judges its own expiry by its monotonic clock.
Needs the scopes read:, create:, update: and delete:resource_servers.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import ApiError, RegistryBusyError, RegistryError

__all__ = ["LEASE_IDENTIFIER", "LEASE_SCOPES", "Holder", "LeaseLostError", "TenantLease"]

LEASE_IDENTIFIER = "urn:reconciler:lease"
LEASE_SCOPES = (
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
)
_SKEW_SECONDS = 5.0
_FIRST_POLL_SECONDS = 0.2
_NAME = re.compile(
    r"reconciler apply lease: (?P<host>\S+) pid (?P<pid>\d+)(?:\.(?P<run>[0-9a-f]+))? "
    r"since (?P<since>\S+) until (?P<until>\S+)\Z"
)


class LeaseLostError(RegistryError):
    """The apply lease was lost while held: no new write may start."""


class LeaseApi(Protocol):
    def create_resource_server(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def resource_server_by_identifier(self, identifier: str) -> dict[str, Any] | None: ...

    def patch_resource_server(self, server_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_resource_server(self, server_id: str) -> None: ...


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, since when and until when (epoch seconds)."""

    host: str
    pid: int
    since: float
    until: float
    #: Tells two leases of one process apart (a lease taken again after a lost answer).
    run: str = ""

    @classmethod
    def me(cls, now: float, ttl: float, run: str = "") -> Holder:
        return cls(_this_host(), os.getpid(), now, now + ttl, run)

    @classmethod
    def parse(cls, name: object) -> Holder | None:
        found = _NAME.match(name) if isinstance(name, str) else None
        if found is None:
            return None
        try:
            return cls(
                found["host"],
                int(found["pid"]),
                _from_iso(found["since"]),
                _from_iso(found["until"]),
                found["run"] or "",
            )
        except ValueError:
            return None

    def name(self) -> str:
        return (
            f"reconciler apply lease: {self.host} pid {self.pid}"
            + (f".{self.run}" if self.run else "")
            + f" since {_iso(self.since)} until {_iso(self.until)}"
        )

    def describe(self) -> str:
        return f"{self.host} pid {self.pid} since {_iso(self.since)}"

    def abandoned(self, now: float) -> bool:
        """Expired, or held by a process of this host that no longer runs."""
        if now > self.until + _SKEW_SECONDS:
            return True
        return self.host == Holder.me(now, 0).host and not _running(self.pid)


def _this_host() -> str:
    """The host name, and a hash of the kernel's boot id and this pid namespace: two
    containers may share a host name (and pids), never all three, so a pid is judged
    dead only where it means the same process."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:60] or "unknown-host"
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return name
    return f"{name}/{hashlib.sha256(f'{boot}:{namespace}'.encode()).hexdigest()[:8]}"


class TenantLease:
    def __init__(
        self,
        api: LeaseApi,
        *,
        tenant: str,
        wait_seconds: float = 600.0,
        ttl: float = 60.0,
        poll_seconds: float = 5.0,
        notify: Callable[[str], None] = lambda message: None,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._tenant = tenant
        self._wait = wait_seconds
        self._ttl = ttl
        self._poll = poll_seconds
        self._notify = notify
        self._wall_clock = wall_clock
        self._clock = clock
        self._id: str | None = None
        self._holder: Holder | None = None
        self._renewed_at = 0.0
        self._lost: str | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._run = secrets.token_hex(4)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lease until the block ends (re-entrant: an inner hold is a no-op)."""
        if self._id is not None:
            yield
            return
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def check(self) -> None:
        """Raise LeaseLostError when the lease is no longer surely ours."""
        if self._id is None:
            return
        if self._lost is None and self._clock() - self._renewed_at > self._ttl:
            self._lost = f"it could not be renewed for {self._ttl:g} s"
        if self._lost is not None:
            raise LeaseLostError(
                f"the apply lease on {self._tenant} was lost ({self._lost}): another apply "
                "may be running, so no further change is started; run apply again"
            )

    # -- taking and giving back ---------------------------------------------------------

    def _acquire(self) -> None:
        deadline = self._clock() + self._wait
        announced: str | None = None
        pause = min(_FIRST_POLL_SECONDS, self._poll)
        while True:
            holder = Holder.me(self._wall_clock(), self._ttl, self._run)
            started = self._clock()
            try:
                created = self._api.create_resource_server(
                    {"identifier": LEASE_IDENTIFIER, "name": holder.name()}
                )
            except ApiError as exc:
                if exc.status == 403:
                    raise self._forbidden(exc) from exc
                if exc.status != 409:
                    raise
            else:
                self._id, self._holder, self._renewed_at = str(created["id"]), holder, started
                if announced is not None:
                    self._notify(f"took the apply lease on {self._tenant}; reading it again")
                self._start_heartbeat()
                return
            current = self._lease_now()
            if current is None:
                continue  # released between our create and our read
            other = Holder.parse(current.get("name"))
            mine = other is not None and (other.host, other.pid, other.run) == (
                holder.host,
                holder.pid,
                holder.run,
            )
            if other is None or mine or other.abandoned(self._wall_clock()):
                if other is None:
                    why = "unreadable"
                elif mine:
                    why = "taken by this very run in a request whose answer was lost"
                else:
                    why = f"abandoned by {other.describe()}"
                self._notify(f"removing the apply lease on {self._tenant} ({why})")
                self._delete(str(current["id"]))
                continue
            if announced != current.get("id"):
                announced = str(current.get("id"))
                self._notify(
                    f"waiting for the apply lease held by {other.describe()} on {self._tenant} "
                    f"(up to {self._wait:g} s, --lock-timeout)"
                )
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise RegistryBusyError(
                    f"another apply holds the apply lease on {self._tenant}: {other.describe()}, "
                    f"until {_iso(other.until)}; gave up after {self._wait:g} s (--lock-timeout). "
                    f"If no apply runs, delete the API {LEASE_IDENTIFIER} or wait for it to expire"
                )
            time.sleep(min(pause, remaining))
            pause = min(pause * 1.5, self._poll)  # short applies end soon; long ones cost few reads

    def _release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        lease_id, self._id = self._id, None
        self._heartbeat = None
        if lease_id is None or self._lost is not None:
            return
        try:
            self._api.delete_resource_server(lease_id)
        except RegistryError as exc:
            assert self._holder is not None
            self._notify(
                f"could not release the apply lease on {self._tenant} ({exc}); "
                f"it expires at {_iso(self._holder.until)}"
            )

    # -- holding ------------------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._lost = None
        self._heartbeat = threading.Thread(
            target=self._beat, name="reconciler-lease-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            if self._lost is not None:
                return
            self._renew()

    def _renew(self) -> None:
        assert self._id is not None and self._holder is not None
        started = self._clock()
        if started - self._renewed_at > self._ttl:
            self._lost = f"it was not renewed for {self._ttl:g} s"  # others may see it expired
            return
        renewed = replace(self._holder, until=self._wall_clock() + self._ttl)
        try:
            self._api.patch_resource_server(self._id, {"name": renewed.name()})
        except ApiError as exc:
            if exc.status == 404:
                self._lost = "it was removed from the tenant"
            return  # else try again at the next beat, until the ttl runs out
        except RegistryError:
            return
        self._holder, self._renewed_at = renewed, started

    # -- helpers ------------------------------------------------------------------------

    def _lease_now(self) -> dict[str, Any] | None:
        try:
            return self._api.resource_server_by_identifier(LEASE_IDENTIFIER)
        except ApiError as exc:
            if exc.status == 403:
                raise self._forbidden(exc) from exc
            raise

    def _delete(self, lease_id: str) -> None:
        try:
            self._api.delete_resource_server(lease_id)
        except ApiError as exc:
            if exc.status == 403:
                raise self._forbidden(exc) from exc
            if exc.status != 404:
                raise

    def _forbidden(self, exc: ApiError) -> RegistryError:
        return RegistryError(
            f"cannot take the apply lease on {self._tenant}: {exc.message}. The lease is the "
            f"API {LEASE_IDENTIFIER}; grant the management client the scopes "
            f"{', '.join(LEASE_SCOPES)}, or run with --no-lock (then nothing keeps two "
            "applies from running at once)"
        )


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
