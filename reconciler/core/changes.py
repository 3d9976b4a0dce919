"""Change kinds: each a type with a symbol, a fixed order, and the before/after apply uses.

The field diff and the reasons are for people (the plan's reader); the applier works only
from ``before``, ``after`` and the identity of the app (after Terraform's plans.Change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconciler.core.stamp import file_hash

__all__ = [
    "Adopt",
    "CHANGE_TYPES",
    "Change",
    "Create",
    "Delete",
    "Deliver",
    "FieldChange",
    "Refresh",
    "Rotate",
    "Update",
]


@dataclass(frozen=True)
class FieldChange:
    """One changed path (``callbacks``, ``refresh_token.rotation_type``) for people to read."""

    path: str
    before: Any
    after: Any
    reasons: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data = {"path": self.path, "before": self.before, "after": self.after}
        if self.reasons:
            data["reasons"] = list(self.reasons)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FieldChange:
        return cls(
            data["path"], data.get("before"), data.get("after"), tuple(data.get("reasons", ()))
        )


@dataclass(frozen=True)
class Change:
    """Base of every change; ``key`` is the app key, ``client_id`` the registry's id.

    ``keys`` carries the public keys (PEM) a create or key rotation needs: public, so
    safe in a plan file, but never part of the diff people read. ``source`` is the CIMD
    document a create or refresh registers from (URL, sha256, origin, the document).
    ``file`` is the manifest file that declares the app, relative to the project root.
    """

    key: str
    client_id: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    diff: tuple[FieldChange, ...] = ()
    reasons: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    protect: bool = False
    cimd: str | None = None
    location: str = ""
    fingerprint: str | None = None
    notes: tuple[str, ...] = field(default=())
    keys: tuple[Mapping[str, Any], ...] = ()
    source: Mapping[str, Any] | None = None
    file: str = ""

    ACTION: ClassVar[str] = ""
    SYMBOL: ClassVar[str] = ""
    ORDER: ClassVar[int] = 0

    def sort_key(self) -> tuple[int, str]:
        return (self.ORDER, self.key)

    @property
    def stamp_source(self) -> str:
        """What the stamp records of the manifest file the app is applied from."""
        return file_hash(self.file) if self.file else ""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.ACTION, "symbol": self.SYMBOL, "key": self.key}
        optional = {
            "client_id": self.client_id,
            "cimd": self.cimd,
            "location": self.location or None,
            "file": self.file or None,
            "fingerprint": self.fingerprint,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        data["protect"] = self.protect
        data["reasons"] = list(self.reasons)
        data["risks"] = list(self.risks)
        data["notes"] = list(self.notes)
        data["before"] = dict(self.before) if self.before is not None else None
        data["after"] = dict(self.after) if self.after is not None else None
        data["diff"] = [d.to_data() for d in self.diff]
        if self.keys:
            data["keys"] = [dict(k) for k in self.keys]
        if self.source is not None:
            data["source"] = dict(self.source)
        return data

    @staticmethod
    def from_data(data: Mapping[str, Any]) -> Change:
        kind = CHANGE_TYPES[data["action"]]
        return kind(
            key=data["key"],
            client_id=data.get("client_id"),
            before=data.get("before"),
            after=data.get("after"),
            diff=tuple(FieldChange.from_data(d) for d in data.get("diff", ())),
            reasons=tuple(data.get("reasons", ())),
            risks=tuple(data.get("risks", ())),
            protect=bool(data.get("protect", False)),
            cimd=data.get("cimd"),
            location=data.get("location", ""),
            fingerprint=data.get("fingerprint"),
            notes=tuple(data.get("notes", ())),
            keys=tuple(data.get("keys", ())),
            source=data.get("source"),
            file=data.get("file", ""),
        )


@dataclass(frozen=True)
class Adopt(Change):
    """Stamp an existing, unowned app that a manifest names, and converge it."""

    ACTION: ClassVar[str] = "adopt"
    SYMBOL: ClassVar[str] = "@"
    ORDER: ClassVar[int] = 0


@dataclass(frozen=True)
class Create(Change):
    ACTION: ClassVar[str] = "create"
    SYMBOL: ClassVar[str] = "+"
    ORDER: ClassVar[int] = 1


@dataclass(frozen=True)
class Update(Change):
    ACTION: ClassVar[str] = "update"
    SYMBOL: ClassVar[str] = "~"
    ORDER: ClassVar[int] = 2


@dataclass(frozen=True)
class Refresh(Change):
    """Re-register a CIMD app from its metadata document, which changed upstream."""

    ACTION: ClassVar[str] = "refresh"
    SYMBOL: ClassVar[str] = "←"
    ORDER: ClassVar[int] = 3


@dataclass(frozen=True)
class Deliver(Change):
    """Deliver the secret of an app whose stamp says it may never have reached a sink:
    read it back where the registry allows, rotate it where it does not."""

    ACTION: ClassVar[str] = "deliver"
    SYMBOL: ClassVar[str] = "»"
    ORDER: ClassVar[int] = -1  # first: a run cut off during its creates still delivers


@dataclass(frozen=True)
class Rotate(Change):
    """Replace an app's secret and deliver the new one (``reconciler rotate-secret``)."""

    ACTION: ClassVar[str] = "rotate"
    SYMBOL: ClassVar[str] = "↻"
    ORDER: ClassVar[int] = -1


@dataclass(frozen=True)
class Delete(Change):
    """Deletes come last: a run that fails part way has removed nothing yet."""

    ACTION: ClassVar[str] = "delete"
    SYMBOL: ClassVar[str] = "-"
    ORDER: ClassVar[int] = 5


CHANGE_TYPES: dict[str, type[Change]] = {
    kind.ACTION: kind for kind in (Adopt, Create, Update, Refresh, Deliver, Rotate, Delete)
}
