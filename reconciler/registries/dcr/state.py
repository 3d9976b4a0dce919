"""The DCR state file: what reconciler knows about each client it registered.

RFC 7592 gives each client its own management URI and bearer token, and no way to list
clients, so both live here, keyed by issuer and app key. Membership in this file is
ownership. One JSON document, mode 0600, replaced atomically on every change:

    {
      "format": "reconciler-dcr-state/1",
      "issuers": {
        "https://id.example.com": {
          "apps": {
            "payments-dashboard": {
              "client_id": "...",
              "registration_client_uri": "https://id.example.com/reg/...",
              "registration_access_token": "...",
              "stamp": {"reconciler_owner": "...", "reconciler_key": "...",
                        "reconciler_applied": "v1:..."},
              "applied": {"name": "...", "oidc_conformant": true, ...},
              "ignored": ["initiate_login_uri"],
              "cimd": null,
              "document_fields": {},
              "intent": "4f1c...",
              "written_at": "2026-11-27T09:30:00.123+00:00"
            }
          }
        }
      }
    }

``applied`` holds the canonical values last written (public: key summaries, never PEMs or
secrets); ``ignored`` the fields the server left out of its answer when they were written;
``stamp`` is null for a client adopted but not yet applied; ``intent`` names the journal
entry of the write that produced the entry. Every change is a read-modify-write under a
short cross-process lock, so a plan that must store a rotated token never loses an entry
an apply is writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.core.stamp import Stamp
from reconciler.errors import ConflictError, RegistryError
from reconciler.registries.dcr.files import FileMutex, replace_atomically

__all__ = ["FORMAT", "Registration", "StateFile", "now"]

FORMAT = "reconciler-dcr-state/1"

Document = dict[str, Any]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Registration:
    """One app's entry: its client and the means to manage it."""

    key: str
    client_id: str
    registration_client_uri: str | None
    registration_access_token: str | None = field(default=None, repr=False)
    stamp: Stamp | None = None
    applied: Mapping[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    cimd: str | None = None
    document_fields: Mapping[str, Any] = field(default_factory=dict)
    intent: str | None = None
    written_at: str = ""

    def with_token(self, token: str, uri: str | None = None) -> Registration:
        return replace(
            self,
            registration_access_token=token,
            registration_client_uri=uri or self.registration_client_uri,
            written_at=now(),
        )

    def to_data(self) -> Document:
        return {
            "client_id": self.client_id,
            "registration_client_uri": self.registration_client_uri,
            "registration_access_token": self.registration_access_token,
            "stamp": self.stamp.to_metadata() if self.stamp else None,
            "applied": dict(self.applied),
            "ignored": list(self.ignored),
            "cimd": self.cimd,
            "document_fields": dict(self.document_fields),
            "intent": self.intent,
            "written_at": self.written_at or now(),
        }

    @classmethod
    def from_data(cls, key: str, data: Mapping[str, Any]) -> Registration:
        stamp_data = data.get("stamp")
        return cls(
            key=key,
            client_id=str(data["client_id"]),
            registration_client_uri=data.get("registration_client_uri"),
            registration_access_token=data.get("registration_access_token"),
            stamp=Stamp.read(stamp_data) if isinstance(stamp_data, dict) else None,
            applied=dict(data.get("applied") or {}),
            ignored=tuple(data.get("ignored") or ()),
            cimd=data.get("cimd"),
            document_fields=dict(data.get("document_fields") or {}),
            intent=data.get("intent"),
            written_at=str(data.get("written_at") or ""),
        )


class StateFile:
    """The state of one issuer inside the shared state file."""

    def __init__(self, path: Path, issuer: str) -> None:
        self.path = path
        self.issuer = issuer
        self.mutex = FileMutex(path.with_name(path.name + ".write-lock"))

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def journal_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".journal")

    def registrations(self) -> dict[str, Registration]:
        apps = self._apps(self._read())
        return {key: Registration.from_data(key, data) for key, data in sorted(apps.items())}

    def put(self, registration: Registration, *, previous_key: str | None = None) -> None:
        """Store ``registration`` under its key (moving it from ``previous_key``)."""

        def change(apps: Document) -> None:
            there = apps.get(registration.key)
            if there is not None and there.get("client_id") != registration.client_id:
                raise ConflictError(
                    f"the DCR state already holds client {there.get('client_id')} for app "
                    f"{registration.key!r}; it cannot also hold {registration.client_id}"
                )
            if previous_key is not None and previous_key != registration.key:
                apps.pop(previous_key, None)
            apps[registration.key] = registration.to_data()

        self._mutate(change)

    def remove(self, key: str, client_id: str | None = None) -> None:
        """Forget ``key`` (only if it still names ``client_id``, when given)."""

        def change(apps: Document) -> None:
            there = apps.get(key)
            if there is not None and client_id in (None, there.get("client_id")):
                del apps[key]

        self._mutate(change)

    def _mutate(self, change: Callable[[Document], None]) -> None:
        with self.mutex.held():
            document = self._read()
            change(self._apps(document))
            text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
            replace_atomically(self.path, text + "\n")

    def _read(self) -> Document:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return {"format": FORMAT, "issuers": {}}
        except OSError as exc:
            raise RegistryError(f"cannot read the DCR state {self.path}: {exc.strerror}") from exc
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise RegistryError(
                f"the DCR state {self.path} is not valid JSON ({exc}); restore it from a backup"
            ) from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise RegistryError(f"{self.path} is not a reconciler DCR state file ({FORMAT})")
        return document

    def _apps(self, document: Document) -> Document:
        issuers = document.setdefault("issuers", {})
        apps: Document = issuers.setdefault(self.issuer, {}).setdefault("apps", {})
        return apps
