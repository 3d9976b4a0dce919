"""Registry backends behind one contract (base.py), chosen by URI (``open_registry``).

base.py      the contract every backend implements, and its optional capabilities
clients.py   a Registry over an Auth0-shaped clients API (the embedded tenant, Auth0)
sqlite.py    ``sqlite:PATH``: the embedded tenant in one SQLite file
retry.py     how often, and after how long, a registry request is tried again
trust.py     the certificates HTTPS registries trust by default, loaded once a process
auth0/       ``auth0://TENANT_DOMAIN``: the Auth0 Management API v2
dcr/         ``dcr+https://ISSUER``: RFC 7591/7592 dynamic client registration
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from reconciler.errors import InputError
from reconciler.registries.base import Created, Registry

__all__ = ["Connection", "Created", "Registry", "load_registry_code", "open_registry"]

#: The module that opens each kind of registry URI, imported when one is opened.
_BACKENDS = {
    "sqlite:": "reconciler.registries.sqlite",
    "auth0://": "reconciler.registries.auth0.registry",
    "dcr+https://": "reconciler.registries.dcr.registry",
    "dcr+http://": "reconciler.registries.dcr.registry",
}


@dataclass(frozen=True)
class Connection:
    """How to reach a registry beyond its URI (command-line settings)."""

    auth0_base_url: str | None = None
    #: The Management API audience (--auth0-audience), when not the registry domain's.
    auth0_audience: str | None = None
    max_rps: float | None = None
    #: The project root (where reconciler.yaml is): relative local state is kept under it.
    root: Path | None = None
    #: For commands that only read (plan, export): a missing embedded registry is not created.
    read_only: bool = False
    #: HTTP read timeout of each registry request, in seconds (--timeout).
    timeout: float = 30.0
    #: How long an apply waits for another one's lock or lease (--lock-timeout).
    lock_timeout: float = 600.0
    #: False: take no apply lock or lease (--no-lock).
    lock: bool = True
    #: Where credentials (AUTH0_*) are read from; None: the process environment.
    environ: Mapping[str, str] | None = None


def load_registry_code(uri: str) -> None:
    """Import the code that opens ``uri`` without opening it (nothing for an unknown URI:
    opening it says why). Before the environments of a run fork, so that every process
    shares it instead of importing it again."""
    for prefix, module in _BACKENDS.items():
        if uri.startswith(prefix):
            import_module(module)
            return


def open_registry(uri: str, connection: Connection | None = None) -> Registry:
    """``sqlite:PATH`` (embedded), ``auth0://DOMAIN`` or ``dcr+https://ISSUER``."""
    settings = connection or Connection()
    if uri.startswith("sqlite:"):
        from reconciler.registries.sqlite import open_sqlite

        return open_sqlite(
            uri,
            create=not settings.read_only,
            lock_timeout=settings.lock_timeout if settings.lock else None,
        )
    if uri.startswith("auth0://"):
        from reconciler.registries.auth0.registry import open_auth0

        return open_auth0(
            uri,
            base_url=settings.auth0_base_url,
            audience=settings.auth0_audience,
            max_rps=settings.max_rps,
            timeout=settings.timeout,
            lock=settings.lock,
            lock_timeout=settings.lock_timeout,
            environ=settings.environ,
        )
    if uri.startswith(("dcr+https://", "dcr+http://")):
        from reconciler.registries.dcr.registry import open_dcr

        return open_dcr(
            uri,
            root=settings.root,
            timeout=settings.timeout,
            lock_wait_seconds=settings.lock_timeout,
        )
    raise InputError(
        f"unsupported registry {uri!r}: use sqlite:PATH, auth0://TENANT_DOMAIN or dcr+https://ISSUER"
    )
