"""What a registry holds, read once per run: its apps and, where it holds them, the client
grants and connections that say what each app may access.

A registry that may be read from other threads (``ClientsRegistry.reads_in_background``:
the Auth0 Management API) reads the three side by side, and may be read ahead
(``ReadAhead``) while the manifests are still being loaded and validated.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from reconciler.core.access import with_access
from reconciler.core.collector import collector_paused
from reconciler.core.model import App, Grant, LoginConnection
from reconciler.errors import ApiError
from reconciler.registries.base import HoldsGrants, Registry
from reconciler.registries.clients import ClientsRegistry

__all__ = ["Holdings", "ReadAhead", "read_holdings", "reads_in_background"]


@dataclass(frozen=True)
class Holdings:
    """The apps, each with its ``grants`` and ``connections`` fields when the registry
    holds grants; the grants and connections themselves, for the writes that need ids."""

    apps: list[App]
    grants: list[Grant] = field(default_factory=list)
    connections: list[LoginConnection] = field(default_factory=list)
    holds_access: bool = False


@dataclass(frozen=True)
class _Read:
    """What one read found; ``refused``: the registry refused the grants or connections
    to these credentials (a 403), which only a run that needs them fails for."""

    apps: list[App]
    grants: list[Grant] | None = None
    connections: list[LoginConnection] | None = None
    refused: ApiError | None = None

    def holdings(self, needs_access: bool) -> Holdings:
        if self.refused is not None and needs_access:
            raise self.refused
        if self.grants is None or self.connections is None:
            return Holdings(self.apps)
        return Holdings(
            with_access(self.apps, self.grants, self.connections),
            self.grants,
            self.connections,
            True,
        )


def reads_in_background(registry: Registry) -> bool:
    """Whether ``registry`` may be read from threads other than the one that opened it."""
    return isinstance(registry, ClientsRegistry) and registry.reads_in_background


def read_holdings(registry: Registry, *, needs_access: bool = True) -> Holdings:
    """Every app, every grant and every connection, each in one paged pass.

    The grants are read even when no manifest names one, so that an app's fingerprint
    (which a saved plan is checked against) covers what it may access. A run that does
    not ``need_access`` (no manifest manages grants or connections) goes on without them
    when the registry refuses them to these credentials (a token without
    read:client_grants or read:connections, as tokens made before grants were managed).
    """
    with collector_paused():
        return _read(registry).holdings(needs_access)


class ReadAhead:
    """``read_holdings`` on a thread of its own, started before the caller needs it.

    ``holdings`` waits for it and raises what it raised. ``close`` closes the registry:
    at once when the read has ended, else (the run stopped first: invalid manifests, an
    interrupt) the read is stopped at its next request and its own thread closes the
    registry once the requests in flight have answered; what it found is dropped.
    """

    def __init__(self, registry: ClientsRegistry) -> None:
        self._registry = registry
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._close_when_done = False
        self._found: _Read | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="registry-read", daemon=True)
        self._thread.start()

    def holdings(self, *, needs_access: bool) -> Holdings:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._found is not None
        return self._found.holdings(needs_access)

    def close(self) -> None:
        self._registry.stop_reading()
        with self._lock:
            self._close_when_done = not self._done.is_set()
            now = not self._close_when_done
        if now:
            self._registry.close()

    def join(self, timeout: float | None = None) -> bool:
        """Whether the read has ended (within ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._found = _read(self._registry)
        except BaseException as exc:  # handed to the thread that asks for the holdings
            self._error = exc
        finally:
            with self._lock:
                self._done.set()
                close = self._close_when_done
            if close:
                self._registry.close()


def _read(registry: Registry) -> _Read:
    if not isinstance(registry, HoldsGrants):
        return _Read(registry.list_apps())
    if not reads_in_background(registry):
        apps = registry.list_apps()
        try:
            return _Read(apps, registry.list_grants(), registry.list_connections())
        except ApiError as exc:
            if exc.status != 403:
                raise
            return _Read(apps, refused=exc)
    assert isinstance(registry, ClientsRegistry)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="registry-access")
    try:
        grants = pool.submit(registry.list_grants)
        connections = pool.submit(registry.list_connections)
        apps = registry.list_apps()
        return _Read(apps, *_access(grants, connections))
    except BaseException:
        # The other reads stop at their next request; they end before the registry (and
        # the connections they hold) may be closed.
        registry.stop_reading()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _access(
    grants: Future[list[Grant]], connections: Future[list[LoginConnection]]
) -> tuple[list[Grant] | None, list[LoginConnection] | None, ApiError | None]:
    """The grants and the connections, or the 403 that refused one of them."""
    try:
        return grants.result(), connections.result(), None
    except ApiError as exc:
        if exc.status != 403:
            raise
        return None, None, exc
