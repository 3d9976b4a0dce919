"""``dcr+https://ISSUER``: any authorization server with RFC 7591 and RFC 7592.

The server keeps no reconciler metadata and cannot list clients, so what reconciler
knows lives in a local state file (``state``): each app's client id, management URI
and registration access token, its stamp and the values last applied. Membership in that
file is ownership. Before each registration an intent is journaled (``journal``), so
a run killed between the server's answer and the state write leaves a reported possible
orphan, never a hidden one. A new registration access token, wherever it comes back, is
written to the state before anything else happens.

URI: ``dcr+https://ISSUER[?state=PATH]`` (``dcr+http://`` for loopback issuers only).
The state file is ``PATH``, else ``$RECONCILER_DCR_STATE``, else
``.reconciler/dcr-state.json``; a relative path is taken from the working directory.
``$DCR_INITIAL_ACCESS_TOKEN`` is sent with each registration when the server needs one.

Secrets: ``create`` stores the stamp it is given, so an app whose secret the applier has
not yet written to a sink is recorded ``pending`` in the same write that records the
client; ``update(current, {}, stamp.delivered())`` then clears it in the state alone (no
request to the server). ``read_secret`` reads the secret back (RFC 7592 read). RFC 7592
has no way to ask for a new secret (node-oidc-provider 9 keeps the secret across a PUT),
so this backend does not offer ``rotate_secret``: see ``ROTATION_UNSUPPORTED``.

A state file that does not exist (a CI runner that did not restore it) is said under the
plan's header (``header_notes``): every app would be registered anew.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from reconciler.core.model import App, Credential, canonical
from reconciler.core.stamp import Stamp
from reconciler.errors import ApiError, ConflictError, InputError, RegistryError
from reconciler.files import remove_temporaries
from reconciler.registries.base import Created, HeaderNote, Registry
from reconciler.registries.dcr.apps import (
    cimd_app,
    cimd_note,
    document_fields,
    registered_app,
    status_of,
    unreachable_app,
    unreachable_hint,
)
from reconciler.registries.dcr.files import exclusive_flock
from reconciler.registries.dcr.http import NotSent, RegistrationApi
from reconciler.registries.dcr.journal import CreateIntent, IntentJournal
from reconciler.registries.dcr.metadata import (
    NEVER_SENT,
    SECRET_METHODS,
    ignored_fields,
    registration_metadata,
)
from reconciler.registries.dcr.state import Registration, StateFile, now
from reconciler.registries.trust import default_trust

__all__ = [
    "DEFAULT_STATE",
    "IAT_ENV",
    "LOCK_WAIT_SECONDS",
    "ROTATION_UNSUPPORTED",
    "STATE_ENV",
    "DcrRegistry",
    "open_dcr",
]

DEFAULT_STATE = Path(".reconciler/dcr-state.json")
STATE_ENV = "RECONCILER_DCR_STATE"
IAT_ENV = "DCR_INITIAL_ACCESS_TOKEN"
#: How long a second apply waits for the one holding the state (a long apply takes minutes).
LOCK_WAIT_SECONDS = 900.0
READ_PARALLELISM = 8
ROTATION_UNSUPPORTED = (
    "RFC 7592 has no way to ask a server for a new client secret (node-oidc-provider keeps "
    "the secret across a PUT), so reconciler cannot rotate it: read it back where the server "
    "shows it, or register a new client (`reconciler dcr forget KEY`, apply, then delete "
    "the old client in the server's console)"
)


def _say_on_stderr(message: str) -> None:
    print(f"reconciler: {message}", file=sys.stderr, flush=True)


class DcrRegistry(Registry):
    """The Registry over RFC 7591/7592 and the local state file."""

    rotation_unsupported = ROTATION_UNSUPPORTED
    holds_scope = True

    def __init__(
        self,
        uri: str,
        api: RegistrationApi,
        state: StateFile,
        *,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
        on_wait: Callable[[str], None] = _say_on_stderr,
    ) -> None:
        self.uri = uri
        self.api = api
        self.state = state
        self.journal = IntentJournal(state.journal_path, state.mutex)
        self._lock_wait = lock_wait_seconds
        self._on_wait = on_wait
        #: Said on every CIMD change: such a server registers nothing for a CIMD app.
        self.cimd_note = cimd_note(api.issuer)

    @property
    def issuer(self) -> str:
        return self.api.issuer

    def header_notes(self) -> list[HeaderNote]:
        """A state file that does not exist: every app would be registered as new. Else
        the fields the server left out of its answers, which it does not hold."""
        if self.state.path.exists():
            unheld = _unheld_note(self.issuer, self.state.registrations().values())
            return [unheld] if unheld is not None else []
        shown = _shown(self.state.path)
        return [
            HeaderNote(
                "missing-state",
                f"DCR state {shown} not found: every app would be registered as new; restore "
                "it from your CI cache, or pass --first-run on the very first apply",
                refuses_creates=True,
                first_run_message=(
                    f"DCR state {shown} not found, and --first-run says this is the first "
                    "run: every app is registered as new"
                ),
            )
        ]

    def list_apps(self) -> list[App]:
        """Every app in the state, each read with its own token (RFC 7592 has no list)."""
        self.api.discover()
        registrations = list(self.state.registrations().values())
        with ThreadPoolExecutor(max_workers=READ_PARALLELISM) as pool:
            return list(pool.map(self._read, registrations))

    def orphans(self) -> list[CreateIntent]:
        """Registrations that were sent but never recorded: possible orphan clients."""
        registrations = self.state.registrations()
        recorded = {r.intent for r in registrations.values() if r.intent}
        return [
            replace(intent, replaced_by=held.client_id if held is not None else None)
            for intent in self.journal.pending()
            if intent.issuer == self.issuer and intent.id not in recorded
            for held in [registrations.get(intent.key)]
        ]

    def dismiss_orphans(self, intent_ids: Iterable[str]) -> None:
        for intent_id in intent_ids:
            self.journal.settle(intent_id)

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        discovery = self.api.discover()
        key = stamp.key
        held = self.state.registrations().get(key)
        if held is not None:
            raise ConflictError(
                f"app {key!r}: the DCR state already holds client {held.client_id} for it"
            )
        written = {**fields, **({"credentials": list(credentials)} if credentials else {})}
        body = _present(registration_metadata(written, discovery.profile))
        intent = self.journal.begin(
            key, self.issuer, discovery.registration_endpoint, fields.get("name")
        )
        try:
            answer = self.api.register(body, what=f"registering app {key!r}")
        except (NotSent, ApiError) as exc:
            if isinstance(exc, NotSent) or exc.status < 500:
                self.journal.settle(intent.id)  # refused or never sent: nothing was created
            raise
        registration = Registration(
            key=key,
            client_id=str(answer["client_id"]),
            registration_client_uri=answer.get("registration_client_uri"),
            registration_access_token=answer.get("registration_access_token"),
            stamp=stamp,
            applied=_applied_values(fields),
            ignored=ignored_fields(_applied_values(fields), answer, discovery.profile),
            intent=intent.id,
            written_at=now(),
        )
        self.state.put(registration)
        self.journal.settle(intent.id)
        method = answer.get("token_endpoint_auth_method")
        secret = answer.get("client_secret") if method in SECRET_METHODS else None
        app = registered_app(registration, answer, discovery.profile)
        return Created(app, secret if isinstance(secret, str) else None)

    def update(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App:
        applied = _applied_after(current, changes, stamp)
        registration = self._registration_for(current)
        if current.is_cimd:
            return self._record_cimd(current, registration, stamp, applied)
        if registration is None:
            raise ConflictError(
                f"app {stamp.key!r}: client {current.client_id} is not in the DCR state "
                f"{self.state.path}, so reconciler cannot manage it"
            )
        if not changes:
            return self._record_stamp(current, registration, stamp)
        uri, token = registration.registration_client_uri, registration.registration_access_token
        if status_of(current).get("status") == "unreachable" or not uri or not token:
            raise RegistryError(f"app {stamp.key!r}: {self._hint(registration)}")
        profile = self.api.discover().profile
        body = {k: v for k, v in current.record.items() if k not in NEVER_SENT}
        body.pop("reconciler_dcr", None)
        body.update(registration_metadata(changes, profile))
        body = _present(body)
        body["client_id"] = registration.client_id
        what = f"updating app {stamp.key!r} (client {registration.client_id})"
        answer = self.api.replace(uri, token, body, what=what)
        if answer is None:
            raise RegistryError(f"{what}: 401 from {self.issuer}: {self._hint(registration)}")
        updated = replace(
            registration.with_token(
                answer.get("registration_access_token") or token,
                answer.get("registration_client_uri"),
            ),
            key=stamp.key,
            stamp=stamp,
            applied=applied,
            ignored=ignored_fields(applied, answer, profile),
        )
        self.state.put(updated, previous_key=registration.key)
        return registered_app(updated, answer, profile)

    def read_secret(self, current: App) -> str | None:
        """The client's secret as an RFC 7592 read shows it; None when the server omits it."""
        registration = self._registration_for(current)
        if registration is None or registration.cimd:
            return None
        uri, token = registration.registration_client_uri, registration.registration_access_token
        if not uri or not token:
            raise RegistryError(f"app {registration.key!r}: {self._hint(registration)}")
        what = f"reading the secret of app {registration.key!r} (client {registration.client_id})"
        metadata = self.api.read(uri, token, what=what)
        if metadata is None:
            raise RegistryError(f"{what}: 401 from {self.issuer}: {self._hint(registration)}")
        self._keep_fresh_token(registration, metadata)
        secret = metadata.get("client_secret")
        return secret if isinstance(secret, str) and secret else None

    def delete(self, current: App) -> None:
        registration = self._registration_for(current)
        if registration is None:
            return
        uri, token = registration.registration_client_uri, registration.registration_access_token
        if not registration.cimd and uri and token:
            what = f"deleting app {registration.key!r} (client {registration.client_id})"
            self.api.remove(uri, token, what=what)
        self.state.remove(registration.key, registration.client_id)

    def register_cimd(self, url: str, document: Mapping[str, Any], current: App | None) -> App:
        """Registers nothing: the server fetches the document itself when the client is used.

        Returns the app as it will be recorded; ``update`` (which the applier calls next
        with the stamp) writes it to the state.
        """
        if not self.api.discover().cimd_supported:
            raise RegistryError(
                f"{self.issuer} does not advertise client_id_metadata_document_supported: it "
                f"cannot use the metadata document {url}"
            )
        registration = Registration(
            key=current.stamp.key if current and current.stamp else url,
            client_id=url,
            registration_client_uri=None,
            stamp=current.stamp if current else None,
            applied=dict(current.fields) if current else {},
            cimd=url,
            document_fields=document_fields(url, document),
        )
        return cimd_app(registration, self.issuer)

    def adopt(
        self,
        key: str,
        client_id: str,
        registration_access_token: str,
        registration_client_uri: str | None = None,
        *,
        owner: str | None = None,
    ) -> App:
        """Start (or resume) managing an existing client with a token from its server.

        Without ``registration_client_uri`` the usual ``REGISTRATION_ENDPOINT/CLIENT_ID`` is
        used. Re-adopting the client a key already names keeps its stamp; a client adopted
        afresh is stamped for ``owner`` as ``key`` (nothing applied yet, so the next plan
        converges it), or, with no owner, left unstamped for a manifest naming its client_id.
        """
        discovery = self.api.discover()
        uri = registration_client_uri or (
            f"{discovery.registration_endpoint.rstrip('/')}/{client_id}"
        )
        what = f"adopting client {client_id} as {key!r}"
        metadata = self.api.read(uri, registration_access_token, what=what)
        if metadata is None:
            raise RegistryError(f"{what}: {self.issuer} refused the registration access token")
        held = self.state.registrations().get(key)
        same = held is not None and held.client_id == client_id
        fresh = Stamp(owner, key, {}) if owner else None
        registration = Registration(
            key=key,
            client_id=client_id,
            registration_client_uri=metadata.get("registration_client_uri") or uri,
            registration_access_token=(
                metadata.get("registration_access_token") or registration_access_token
            ),
            stamp=held.stamp if held is not None and same else fresh,
            applied=held.applied if held is not None and same else {},
            ignored=held.ignored if held is not None and same else (),
            written_at=now(),
        )
        self.state.put(registration)
        return registered_app(registration, metadata, discovery.profile)

    def forget(self, key: str) -> None:
        """Drop an app from the state (its client, if any, is left on the server)."""
        self.state.remove(key)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held for a whole apply; a second apply says that it waits, and waits its turn."""
        held = f"the DCR state {self.state.path} (lock file {self.state.lock_path})"
        busy = (
            f"another apply still holds {held} after {self._lock_wait:g} s; let it finish, "
            "then run again"
        )

        def waiting() -> None:
            self._on_wait(
                f"waiting for another apply to finish: it holds {held}; waiting up to "
                f"{self._lock_wait:g} s"
            )

        with exclusive_flock(self.state.lock_path, self._lock_wait, busy, on_wait=waiting):
            with self.state.mutex.held():
                remove_temporaries(self.state.path)
                remove_temporaries(self.journal.path)
            recorded = {r.intent for r in self.state.registrations().values() if r.intent}
            self.journal.compact(lambda i: i.issuer == self.issuer and i.id in recorded)
            yield

    def close(self) -> None:
        self.api.http.close()

    def _read(self, registration: Registration) -> App:
        if registration.cimd:
            return cimd_app(registration, self.issuer)
        uri, token = registration.registration_client_uri, registration.registration_access_token
        if not uri or not token:
            reason = "the server gave no registration_client_uri or registration_access_token"
            return unreachable_app(registration, reason, self._hint(registration))
        what = f"reading app {registration.key!r} (client {registration.client_id})"
        metadata = self.api.read(uri, token, what=what)
        if metadata is None:
            reason = f"{self.issuer} answered 401 to the registration access token"
            return unreachable_app(registration, reason, self._hint(registration))
        registration = self._keep_fresh_token(registration, metadata)
        return registered_app(registration, metadata, self.api.discover().profile)

    def _keep_fresh_token(
        self, registration: Registration, metadata: Mapping[str, Any]
    ) -> Registration:
        """A read may hand out a new token or URI: stored before anything else happens."""
        uri, token = registration.registration_client_uri, registration.registration_access_token
        fresh_token = metadata.get("registration_access_token")
        fresh_uri = metadata.get("registration_client_uri")
        if (fresh_token and fresh_token != token) or (fresh_uri and fresh_uri != uri):
            registration = registration.with_token(fresh_token or token or "", fresh_uri)
            self.state.put(registration)
        return registration

    def _record_stamp(self, current: App, registration: Registration, stamp: Stamp) -> App:
        """Only the stamp changes (a delivered secret, a key or protect flag): state only.

        The stamp lives in the state alone, and the fields the server does not hold were
        last applied as ``registration.applied`` says, so nothing is sent to the server.
        """
        recorded = replace(registration, key=stamp.key, stamp=stamp, written_at=now())
        self.state.put(recorded, previous_key=registration.key)
        return replace(current, stamp=stamp)

    def _registration_for(self, app: App) -> Registration | None:
        for registration in self.state.registrations().values():
            if registration.client_id == app.client_id:
                return registration
        return None

    def _record_cimd(
        self,
        current: App,
        registration: Registration | None,
        stamp: Stamp,
        applied: Mapping[str, Any],
    ) -> App:
        url = current.external_client_id or current.client_id
        documented = {k: v for k, v in current.record.items() if k != "reconciler_dcr"}
        recorded = Registration(
            key=stamp.key,
            client_id=url,
            registration_client_uri=None,
            stamp=stamp,
            applied=applied,
            cimd=url,
            document_fields=documented,
            written_at=now(),
        )
        previous = registration.key if registration is not None else None
        self.state.put(recorded, previous_key=previous)
        return cimd_app(recorded, self.issuer)

    def _hint(self, registration: Registration) -> str:
        return unreachable_hint(registration, self.issuer, self.state.path)


def open_dcr(
    uri: str,
    *,
    environ: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    root: Path | None = None,
    timeout: float = 30.0,
    lock_wait_seconds: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> DcrRegistry:
    """``dcr+https://ISSUER[?state=PATH]``; see the module docstring.

    ``timeout`` is the HTTP read timeout of each request (--timeout); ``lock_wait_seconds``
    bounds how long an apply waits for another one holding the state (--lock-timeout,
    default ``LOCK_WAIT_SECONDS``); ``on_wait`` is told once that it waits (default: a
    line on stderr).
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(uri)
    if parts.scheme not in ("dcr+https", "dcr+http") or not parts.hostname:
        raise InputError(f"registry {uri!r}: use dcr+https://ISSUER (dcr+http:// for loopback)")
    if parts.username or parts.password or parts.fragment:
        raise InputError(f"registry {uri!r}: an issuer has no user, password or fragment")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"state"}
    if unknown:
        raise InputError(f"registry {uri!r}: unknown parameter(s) {', '.join(sorted(unknown))}")
    scheme = parts.scheme.removeprefix("dcr+")
    issuer = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    named = (query.get("state") or [""])[-1] or env.get(STATE_ENV) or str(DEFAULT_STATE)
    state_path = Path(named).expanduser()
    if not state_path.is_absolute():
        state_path = (root or Path.cwd()) / state_path
    http = client or httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), verify=default_trust()
    )
    api = RegistrationApi(http, issuer, initial_access_token=env.get(IAT_ENV) or None)
    return DcrRegistry(
        uri,
        api,
        StateFile(state_path, issuer),
        lock_wait_seconds=LOCK_WAIT_SECONDS if lock_wait_seconds is None else lock_wait_seconds,
        on_wait=on_wait or _say_on_stderr,
    )


def _unheld_note(issuer: str, registrations: Iterable[Registration]) -> HeaderNote | None:
    """Each field the server answered without when it was written, and the apps it was
    written for: kept in the state, so it is not planned again and again."""
    apps_by_field: dict[str, list[str]] = {}
    for registration in sorted(registrations, key=lambda r: r.key):
        for name in registration.ignored:
            apps_by_field.setdefault(name, []).append(registration.key)
    if not apps_by_field:
        return None
    listed = "; ".join(
        f"{name} ({', '.join(keys)})" for name, keys in sorted(apps_by_field.items())
    )
    return HeaderNote(
        "unheld",
        f"{issuer} does not hold {listed}: it answered without them when they were written, "
        "so they are kept in the DCR state only and not planned again unless they change",
    )


def _shown(path: Path) -> str:
    """``path`` as people typed it: relative to the working directory when under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _applied_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical values as stored: credentials by their public summaries only."""
    values = dict(fields)
    if "credentials" in values:
        values["credentials"] = [
            c.summary() if isinstance(c, Credential) else dict(c) for c in values["credentials"]
        ]
    return canonical(values)


def _applied_after(current: App, changes: Mapping[str, Any], stamp: Stamp) -> dict[str, Any]:
    """Every owned field's value once ``changes`` are written over ``current``."""
    changed = _applied_values(changes)
    return {
        name: changed[name] if name in changed else current.fields.get(name)
        for name in stamp.applied
        if name in changed or name in current.fields
    }


def _present(members: Mapping[str, Any]) -> dict[str, Any]:
    """Members with a value (a full-replacement PUT removes what it leaves out)."""
    return {name: value for name, value in members.items() if value is not None}
