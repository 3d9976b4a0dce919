"""The one contract every registry backend implements.

A registry holds OAuth apps. The reconciler reads all of them once, plans, then writes
through these methods only. Implementations translate their own failures into
``reconciler.errors`` (RegistryError and its kinds) at this boundary.

``list_apps()``
    Every app the registry holds that the reconciler may see, in one pass (paged as the
    backend must, never one request per app), as canonical ``App`` values. The
    reconciler's own management client and global/system clients are left out.

``create(fields, credentials, stamp)``
    Create an app with its owned canonical ``fields``, public-key ``credentials`` and
    ``stamp`` in the same write, so an app never exists unstamped. Returns the new
    ``App`` and its generated secret (None for public clients). The secret is handed
    to the secrets sink and nowhere else.

``update(current, changes, stamp)``
    Write only ``changes`` (canonical field -> new value; a partial object holds only the
    members that change) and the new ``stamp`` to ``current``. ``credentials`` in
    ``changes`` is the full desired list of ``Credential``: new keys are added and
    switched to before old ones are removed, so rotation has no downtime.

``delete(current)``
    Remove the app. Deleting an app that is already gone is not an error.

``register_cimd(url, document, current)``
    Register (``current`` None) or refresh the app for a Client ID Metadata Document from
    the already fetched and validated ``document``. Returns the app as it now is.

``lock()``
    A context manager held for a whole apply: a second apply against the same registry
    waits for it (bounded), then fails with RegistryBusyError.

Optional capabilities (checked with ``isinstance``; a backend offers what it can):

``ReadsSecrets.read_secret(current)``
    The app's current secret read back from the registry, or None when this registry
    (or the credentials it was opened with) cannot show it.

``RotatesSecrets.rotate_secret(current)``
    Replace the app's secret and return the new one: the old one stops working.

``ReportsHeaderNotes.header_notes()``
    What a plan must say first about the registry as a whole (``HeaderNote``), read fresh
    on each call: for instance a DCR state file that was not found. A note with
    ``refuses_creates`` makes apply refuse to create apps (exit 3) unless the run is
    declared a first run.

Secret delivery: ``create`` is given a stamp with ``pending`` set when the app gets a
secret; the applier writes the secret to the sink, then clears the flag with
``update(current, {}, stamp.delivered())``, a write of the stamp alone. An app whose
stamp still says ``pending`` may never have had its secret delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from reconciler.core.model import App, Credential
from reconciler.core.stamp import Stamp

__all__ = [
    "Created",
    "HeaderNote",
    "ReadsSecrets",
    "Registry",
    "ReportsHeaderNotes",
    "RotatesSecrets",
]


@dataclass(frozen=True)
class Created:
    app: App
    secret: str | None = None


@dataclass(frozen=True)
class HeaderNote:
    """Something about the registry as a whole that a plan says under its header."""

    kind: str
    message: str
    #: Creating apps now could duplicate ones the registry already holds.
    refuses_creates: bool = False
    #: What the note says instead once the run is declared a first run.
    first_run_message: str = ""


class Registry(Protocol):
    uri: str

    def list_apps(self) -> list[App]: ...

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created: ...

    def update(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App: ...

    def delete(self, current: App) -> None: ...

    def register_cimd(self, url: str, document: Mapping[str, Any], current: App | None) -> App: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


@runtime_checkable
class ReadsSecrets(Protocol):
    def read_secret(self, current: App) -> str | None: ...


@runtime_checkable
class RotatesSecrets(Protocol):
    def rotate_secret(self, current: App) -> str: ...


@runtime_checkable
class ReportsHeaderNotes(Protocol):
    def header_notes(self) -> Sequence[HeaderNote]: ...
