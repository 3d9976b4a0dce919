"""The ``App`` values the DCR backend reports: registered, unreachable, or CIMD.

Each carries, in ``record["reconciler_dcr"]``, what a plan needs to say about it:

    {"status": "registered"}                          the server answered the read
    {"status": "unreachable", "reason": ..., "hint": ...}
                                                      401: deleted there, or token revoked
    {"status": "cimd", "note": ...}
                                                      nothing registered; the server
                                                      fetches the document itself
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.cimd_fields import DOCUMENT_FIELDS, mapped_fields
from reconciler.core.model import App, canonical
from reconciler.errors import RegistryError
from reconciler.registries.dcr.metadata import Profile, server_fields
from reconciler.registries.dcr.state import Registration

__all__ = [
    "STATUS_MEMBER",
    "cimd_app",
    "document_fields",
    "registered_app",
    "status_of",
    "unreachable_app",
    "unreachable_hint",
]

STATUS_MEMBER = "reconciler_dcr"
_NEVER_RECORDED = frozenset({"client_secret", "registration_access_token"})


def status_of(app: App) -> Mapping[str, Any]:
    """The DCR status of an app this backend reported (empty for any other app)."""
    status = app.record.get(STATUS_MEMBER)
    return status if isinstance(status, Mapping) else {}


def registered_app(
    registration: Registration, metadata: Mapping[str, Any], profile: Profile
) -> App:
    if metadata.get("client_id") != registration.client_id:
        raise RegistryError(
            f"app {registration.key!r}: the server answered for client "
            f"{metadata.get('client_id')!r} instead of {registration.client_id!r}"
        )
    fields = server_fields(metadata, registration.applied, registration.ignored, profile)
    record = {k: v for k, v in metadata.items() if k not in _NEVER_RECORDED}
    record[STATUS_MEMBER] = {"status": "registered"}
    return App(
        client_id=registration.client_id,
        fields=fields,
        stamp=registration.stamp,
        record=record,
    )


def unreachable_app(registration: Registration, reason: str, hint: str) -> App:
    """A client the server will not show: nothing about it is known, so no field is."""
    return App(
        client_id=registration.client_id,
        fields={},
        stamp=registration.stamp,
        record={STATUS_MEMBER: {"status": "unreachable", "reason": reason, "hint": hint}},
        unreachable=f"{reason}: {hint}",
    )


def unreachable_hint(registration: Registration, issuer: str, state_path: Path) -> str:
    return (
        f"the client was deleted on {issuer}, or its registration access token was revoked "
        "(RFC 7592 answers 401 to both). To register a new client for it, run "
        f"`reconciler dcr forget {registration.key}` (it leaves {state_path}) and apply; to "
        f"keep client {registration.client_id}, get a new registration access token for it "
        "from the server's administrator and run "
        f"`DCR_REGISTRATION_ACCESS_TOKEN=... reconciler dcr adopt {registration.key} "
        f"{registration.client_id}`."
    )


def cimd_app(registration: Registration, issuer: str) -> App:
    url = registration.cimd or registration.client_id
    record: dict[str, Any] = dict(registration.document_fields)
    note = cimd_note(issuer)
    record[STATUS_MEMBER] = {"status": "cimd", "note": note}
    return App(
        client_id=url,
        fields=canonical(registration.applied),
        stamp=registration.stamp,
        external_client_id=url,
        record=record,
        note=note,
    )


def cimd_note(issuer: str) -> str:
    return f"nothing is registered: {issuer} fetches the metadata document itself"


def document_fields(url: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """What the document says, in the client fields the planner compares for a refresh."""
    mapped = mapped_fields(url, document)
    return {name: mapped[name] for name in DOCUMENT_FIELDS if name in mapped}
