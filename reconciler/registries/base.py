"""The one contract every registry backend implements: a subclass of ``Registry``.

A registry holds OAuth apps. The reconciler reads all of them once, plans, then writes
through these members only. A backend subclasses ``Registry``, implements its abstract
members, overrides the defaults it can do better than, and declares the two secret
capabilities by implementing their Protocols. ``open_registry`` (registries/__init__.py)
maps a URI scheme to a backend: it is the one place that looks at a URI's scheme, so
nothing outside this package ever asks which backend it holds.

Why a base class with defaults: most optional members have a neutral answer (no notes,
no orphans, one write at a time), so every consumer simply asks, as httpx's
``BaseTransport`` gives ``close`` a default. The secret capabilities and grants are
Protocols checked with ``isinstance`` instead, because the planner and applier decide by
them before they call anything: the applier flags an app ``pending`` before it rotates,
and says "cannot rotate" when the backend cannot; a registry that cannot hold grants
and connections (an RFC 7591 server) has no neutral answer to "which grants exist" (an
empty list would plan every declared grant as a create that can never be written), so
``HoldsGrants`` has no defaults and the planner says once that the registry cannot hold
them.

Errors: a backend raises only ``reconciler.errors`` kinds, its own failures (httpx,
sqlite3, a server's error answers) translated at this boundary; the message names the
app or request and, where there is one, what to do:

    RegistryError       refused, failed or unreachable (exit 1)
    RegistryBusyError   ``lock()`` waited its bound for another apply to finish
    ConflictError       the registry holds something the write contradicts
    ApiError            an Auth0-style error answer (status, error, message, errorCode)
    InputError          when opening: the URI or the backend's settings are wrong

Required (abstract)
-------------------

``uri``
    The registry as it was opened (``auth0://example.auth0.com``); plans, secrets sinks
    and messages name it.

``list_apps()``
    Every app the registry holds that the reconciler may see, in one pass (paged as the
    backend must, never one request per app), as canonical ``App`` values. The
    reconciler's own management client and global/system clients are left out.

``create(fields, credentials, stamp)``
    Create an app with its owned canonical ``fields``, public-key ``credentials`` and
    ``stamp`` in the same write, so an app never exists unstamped. Returns the new
    ``App`` and its generated secret (None for public clients) as ``Created``. The secret
    is handed to the secrets sink and nowhere else.

``update(current, changes, stamp)``
    Write only ``changes`` (canonical field -> new value; a partial object holds only the
    members that change) and the new ``stamp`` to ``current``. ``credentials`` in
    ``changes`` is the full desired list of ``Credential``: new keys are added and
    switched to before old ones are removed, so rotation has no downtime; a registry
    that keeps credentials one by one, at most ``App.credential_limit``, follows
    ``core.rotation.Rotation`` (at the limit a retired key goes first, never the last
    one the app authenticates with).

``delete(current)``
    Remove the app. Deleting an app that is already gone is not an error.

``register_cimd(url, document, current)``
    Register (``current`` None) or refresh the app for a Client ID Metadata Document from
    the already fetched and validated ``document``. Returns the app as it now is; the
    applier then writes its owned fields and stamp with ``update``, so a backend may
    leave the recording to that write (DCR does).

``lock()``
    A context manager held for a whole apply: a second apply against the same registry
    waits for it (bounded), then fails with RegistryBusyError.

Optional, with defaults (override what the backend can do)
----------------------------------------------------------

``close()``
    Release connections and files; called once when the command is done. Default:
    nothing to release.

``write_parallelism``
    How many writes the applier keeps in flight at once unless ``--parallelism`` says
    otherwise. Default 1.

``header_notes()``
    What a plan must say first about the registry as a whole (``HeaderNote``), read fresh
    on each call: for instance a DCR state file that was not found, or (kind ``unheld``)
    the fields a DCR server left out of its answers when they were written. A note with
    ``refuses_creates`` makes apply refuse to create apps (exit 3) unless the run is
    declared a first run. Default: none.

``orphans()``
    Apps the registry may hold but cannot list (a registration sent and never recorded),
    each an ``Orphan``; a plan ends with their ``orphan_message()``. Default: none.

``preview_cimd(url)``
    The registry's own ``CimdVerdict`` on the document at ``url``, before it registers it:
    its violations stop a new app (the registry would refuse it) and warn for one that
    exists. Default None: the registry gives no verdict.

``cimd_note``
    Said on every CIMD change in a plan: what registering a document means here.
    Default None.

``cimd_support()``
    Whether the registry registers CIMD documents at all now (``CimdSupport``), asked at
    plan time when a manifest declares a CIMD app: Auth0 does once the tenant setting
    ``client_id_metadata_document_supported`` is on. Default: supported.

``rotation_unsupported``
    For a backend that is not ``RotatesSecrets``: why, and what to do instead, ending
    the error when a secret must be rotated. Default: replace the app.

``unheld_fields``
    The canonical fields the registry has no place for (Auth0 clients have no RFC 7591
    ``client_uri``, ``policy_uri``, ``tos_uri`` or ``contacts``): a plan leaves them out
    of every app and says once which apps declare them, instead of planning an update
    that never settles. Grants and connections are unheld wherever the registry is not
    ``HoldsGrants``, without being listed here. Default: none.

``check_permissions(needs)``
    Before a run asks for anything (before its first read, and before its first write),
    raise RegistryError naming what the registry's credentials cannot do of ``needs``:
    each ``Operation`` the run is about to ask for, with the app keys that need it (none:
    the run as a whole). Say every missing permission at once, and for what. Default:
    nothing to check (the credentials are not scoped, or the registry cannot tell).

``holds_scope``
    True for a registry that holds no grants but the client's ``scope`` (RFC 7591 §2):
    a plan gives each app that declares ``apis`` the field ``scope``, the scopes of all
    its APIs, sorted, unique and space-separated, compared and stamped as any field is
    (the audiences are not held). Default False.

Capabilities (Protocols, checked with ``isinstance``)
-----------------------------------------------------

``ReadsSecrets.read_secret(current)``
    The app's current secret read back from the registry, or None when this registry
    (or the credentials it was opened with) cannot show it.

``RotatesSecrets.rotate_secret(current)``
    Replace the app's secret and return the new one: the old one stops working.

``HoldsGrants``: the APIs apps may call (client grants) and their login connections.
    Reads, each in one paged pass (never one request per app), as canonical values:

    ``list_grants()``        every client grant (``Grant``) but those of clients
                             ``list_apps`` leaves out
    ``list_apis()``          the registry's APIs (``Api``: identifier and scopes), not the
                             system ones nor the reconciler's own (the apply lease)
    ``list_connections()``   every connection (``LoginConnection``) and its enabled clients

    Writes, each checked like every other write (a lost lease stops it):

    ``create_grant(wanted, client_id=..., default_for=...)``  a grant (``ApiGrant``) for
        one client, or for a group of clients (``default_for``); returns the ``Grant``
    ``update_grant(current, wanted)``  only the mutable members that differ (scopes, and
        the organization members ``wanted`` sets); returns the ``Grant`` as it now is
    ``delete_grant(current)``  removing one that is already gone is not an error
    ``update_connection_clients(connection, enable=..., disable=...)``  enable and
        disable the connection for clients by id, in batches the registry accepts
        (Auth0: at most 50 clients a request)

Secret delivery: ``create`` is given a stamp with ``pending`` set when the app gets a
secret; the applier writes the secret to the sink, then clears the flag with
``update(current, {}, stamp.delivered())``, a write of the stamp alone. An app whose
stamp still says ``pending`` may never have had its secret delivered.

The shipped backends, as ``tests/registries/test_contract.py`` holds them to it
(reads: ReadsSecrets, rotates: RotatesSecrets, grants: HoldsGrants, writes:
write_parallelism):

    backend      reads rotates grants writes overrides
    sqlite:      yes   yes     yes    1      close unheld_fields cimd_support
    auth0://     yes   yes     yes    4      close preview_cimd unheld_fields cimd_support
                                              check_permissions
    dcr+https:// yes   no      no     1      close header_notes orphans cimd_note
                                              rotation_unsupported holds_scope
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from reconciler.core.model import Api, ApiGrant, App, Credential, Grant, LoginConnection
from reconciler.core.stamp import Stamp

__all__ = [
    "CimdSupport",
    "CimdVerdict",
    "Created",
    "HeaderNote",
    "HoldsGrants",
    "Needs",
    "Operation",
    "Orphan",
    "ReadsSecrets",
    "Registry",
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


@dataclass(frozen=True)
class CimdVerdict:
    """What a registry makes of a CIMD document it would register."""

    #: The document could not be used at all (the registry could not fetch it).
    errors: tuple[str, ...] = ()
    #: Rules the document breaks: the registry would refuse to register it.
    violations: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class Operation(StrEnum):
    """What a run asks of a registry, as ``check_permissions`` is told it; the value says
    it to people ("... to read the keys of private_key_jwt apps")."""

    READ_APPS = "read the apps"
    READ_KEYS = "read the keys of private_key_jwt apps"
    READ_GRANTS = "read what apps may access (client grants)"
    READ_CONNECTIONS = "read the apps each connection is enabled for"
    READ_APIS = "check the APIs and scopes the manifests name"
    PREVIEW_CIMD = "preview CIMD documents"
    READ_TENANT_SETTINGS = "check that the tenant registers CIMD documents"
    LOCK = "take the apply lease"
    CREATE_APPS = "create apps"
    UPDATE_APPS = "update apps"
    DELETE_APPS = "delete apps"
    ADD_KEYS = "add private_key_jwt keys"
    SWITCH_KEYS = "switch apps to other private_key_jwt keys or off private_key_jwt"
    REMOVE_KEYS = "remove private_key_jwt keys"
    DELIVER_SECRETS = "deliver secrets (read back, else rotated)"
    ROTATE_SECRETS = "rotate secrets"
    REGISTER_CIMD = "register CIMD apps"
    REFRESH_CIMD = "re-register CIMD apps"
    CREATE_GRANTS = "create client grants"
    UPDATE_GRANTS = "update client grants"
    DELETE_GRANTS = "delete client grants"
    LINK_CONNECTIONS = "enable and disable connections for apps"


#: What a run is about to ask of a registry: each operation, with the keys of the apps that
#: need it (empty: the run as a whole).
Needs = Mapping[Operation, Sequence[str]]


@dataclass(frozen=True)
class CimdSupport:
    """Whether a registry registers CIMD documents now, and why not."""

    #: None: the registry could not tell (``reason`` says why, and what to grant).
    supported: bool | None = True
    reason: str = ""


class Orphan(Protocol):
    """An app the registry may hold without listing it."""

    @property
    def key(self) -> str: ...

    def orphan_message(self) -> str: ...


class Registry(ABC):
    """The contract: see the module docstring."""

    uri: str
    write_parallelism: int = 1
    cimd_note: str | None = None
    rotation_unsupported: str = "replace the app (delete and create it)"
    unheld_fields: frozenset[str] = frozenset()
    holds_scope: bool = False

    @abstractmethod
    def list_apps(self) -> list[App]: ...

    @abstractmethod
    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created: ...

    @abstractmethod
    def update(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App: ...

    @abstractmethod
    def delete(self, current: App) -> None: ...

    @abstractmethod
    def register_cimd(self, url: str, document: Mapping[str, Any], current: App | None) -> App: ...

    @abstractmethod
    def lock(self) -> AbstractContextManager[None]: ...

    def close(self) -> None:
        return None

    def header_notes(self) -> Sequence[HeaderNote]:
        return ()

    def orphans(self) -> Sequence[Orphan]:
        return ()

    def preview_cimd(self, url: str) -> CimdVerdict | None:
        return None

    def check_permissions(self, needs: Needs) -> None:
        return None

    def cimd_support(self) -> CimdSupport:
        return CimdSupport()


@runtime_checkable
class ReadsSecrets(Protocol):
    def read_secret(self, current: App) -> str | None: ...


@runtime_checkable
class RotatesSecrets(Protocol):
    def rotate_secret(self, current: App) -> str: ...


@runtime_checkable
class HoldsGrants(Protocol):
    """Client grants, APIs and connections: see the module docstring."""

    def list_grants(self) -> list[Grant]: ...

    def list_apis(self) -> list[Api]: ...

    def list_connections(self) -> list[LoginConnection]: ...

    def create_grant(
        self, wanted: ApiGrant, *, client_id: str | None = None, default_for: str | None = None
    ) -> Grant: ...

    def update_grant(self, current: Grant, wanted: ApiGrant) -> Grant: ...

    def delete_grant(self, current: Grant) -> None: ...

    def update_connection_clients(
        self,
        connection: LoginConnection,
        *,
        enable: Sequence[str] = (),
        disable: Sequence[str] = (),
    ) -> None: ...
