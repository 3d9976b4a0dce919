"""What the manifests name in the registry: the APIs their grants are for, the scopes
those APIs define, and the login connections. Checked at plan time, once the registry's
APIs and connections are read (``HoldsGrants``), each finding at the manifest location
that names the missing thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from reconciler.core.model import Api, ApiGrant, DesiredApp, LoginConnection
from reconciler.diagnostics import Diagnostic, Location

__all__ = ["check_references"]

#: How many of the registry's names a finding lists.
_SHOWN = 10


def check_references(
    apps: Sequence[DesiredApp],
    third_party: Sequence[ApiGrant],
    apis: Iterable[Api],
    connections: Iterable[LoginConnection],
) -> list[Diagnostic]:
    """Errors for every grant whose audience is not an API of the registry (``unknown-api``)
    or whose scopes that API does not define (``unknown-scope``), and for every connection
    the registry does not have (``unknown-connection``), sorted by location. ``third_party`` are the
    tenant's grants for all third-party apps (``third_party_apis``)."""
    defined = {api.identifier: set(api.scopes) for api in apis}
    names = {connection.name for connection in connections}
    found: list[Diagnostic] = []
    for app in apps:
        where = app.location or Location(app.file or "manifest")
        found += _grant_findings(app.grants or (), defined, where)
        for link in app.connections or ():
            if link.name not in names:
                found.append(
                    Diagnostic(
                        link.location or where,
                        "unknown-connection",
                        f"connection {link.name!r} does not exist in the registry{_known(names)}",
                    )
                )
    for grant in third_party:
        found += _grant_findings((grant,), defined, grant.location or Location("manifest"))
    return sorted(found, key=Diagnostic.sort_key)


def _grant_findings(
    grants: Iterable[ApiGrant], defined: dict[str, set[str]], fallback: Location
) -> Iterator[Diagnostic]:
    for grant in grants:
        where = grant.location or fallback
        scopes = defined.get(grant.audience)
        if scopes is None:
            yield Diagnostic(
                where,
                "unknown-api",
                f"audience {grant.audience!r} is not an API of the registry{_known(defined)}",
            )
            continue
        undefined = [scope for scope in grant.scopes if scope not in scopes]
        if undefined:
            yield Diagnostic(
                where,
                "unknown-scope",
                f"the API {grant.audience} does not define "
                f"{', '.join(repr(s) for s in undefined)}{_known(scopes)}",
            )


def _known(names: Iterable[str]) -> str:
    """What the registry has instead, the first few of it."""
    listed = sorted(names)
    if not listed:
        return " (it has none)"
    shown = ", ".join(listed[:_SHOWN])
    more = f" and {len(listed) - _SHOWN} more" if len(listed) > _SHOWN else ""
    return f" (it has: {shown}{more})"
