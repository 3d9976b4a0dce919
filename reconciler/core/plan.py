"""A plan as data: the ordered changes, what was seen, the safety gate, the saved form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler import __version__
from reconciler.core.changes import (
    CHANGE_TYPES,
    Change,
    Create,
    Declared,
    Delete,
    TenantGrants,
    Update,
)
from reconciler.core.fields import ACCESS_FIELDS
from reconciler.core.model import digest
from reconciler.core.safety import Safety
from reconciler.core.scope import Scope
from reconciler.errors import InputError, UnsafePlanError

__all__ = [
    "Safety",
    "FORMAT_VERSION",
    "HEADER_NOTICES",
    "MISMATCH_NOTICES",
    "REFUSES_CREATES",
    "Conflict",
    "Notice",
    "NoticeKind",
    "Plan",
]

FORMAT_VERSION = "1.1"


class NoticeKind(StrEnum):
    """What sort of thing a notice tells (its value is the plan file's)."""

    #: A protected app no manifest names was kept.
    PROTECTED = "protected"
    #: A create that looks like a renamed key.
    RENAME = "rename"
    #: A removed app a partial run may not delete was kept.
    OUT_OF_SCOPE = "out-of-scope"
    #: A declared app's client is gone or cannot be read.
    UNREACHABLE = "unreachable"
    #: A registration was sent but never recorded: the client may exist.
    ORPHAN = "orphan"
    #: The registry's local state was not found.
    MISSING_STATE = "missing-state"
    #: The registry's local state was not found, and the run says it is a first run.
    FIRST_RUN = "first-run"
    #: Something the manifests declare that this registry cannot hold, said once.
    UNHELD = "unheld"


#: Notices that mean the registry does not hold what the manifests declare, even when the
#: plan has no change to make: a declared app whose client is gone or cannot be read, a
#: registry whose local state was not found, a client that may exist unrecorded.
MISMATCH_NOTICES = frozenset({NoticeKind.UNREACHABLE, NoticeKind.MISSING_STATE, NoticeKind.ORPHAN})
#: Notices about the registry as a whole, said first, under the plan's header.
HEADER_NOTICES = frozenset({NoticeKind.MISSING_STATE, NoticeKind.FIRST_RUN})
#: Notices that make apply refuse to create apps (exit 3) unless told it is a first run.
REFUSES_CREATES = frozenset({NoticeKind.MISSING_STATE})


@dataclass(frozen=True)
class Notice:
    """Something the reader should know that is not a change (a protected app kept...)."""

    kind: NoticeKind
    message: str
    key: str | None = None
    location: str = ""

    def to_data(self) -> dict[str, Any]:
        data = {"kind": str(self.kind), "message": self.message, "key": self.key}
        if self.location:
            data["location"] = self.location
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            NoticeKind(data["kind"]), data["message"], data.get("key"), data.get("location", "")
        )


@dataclass(frozen=True)
class Conflict:
    """A manifest that asks for an app this owner may not touch; refused with exit 3."""

    key: str
    message: str
    location: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"key": self.key, "message": self.message, "location": self.location}


@dataclass(frozen=True)
class Plan:
    owner: str
    registry: str
    changes: tuple[Change, ...] = ()
    notices: tuple[Notice, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    owned: int = 0
    environment: str | None = None
    manifest_digest: str = ""
    safety: Safety = field(default_factory=Safety)
    #: What a partial run was shown (paths, --target); empty for a full run.
    scope: Scope = field(default_factory=Scope)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=Change.sort_key)))

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def matches_registry(self) -> bool:
        """No change to make and nothing seen that differs (``MISMATCH_NOTICES``)."""
        return self.is_empty and not any(n.kind in MISMATCH_NOTICES for n in self.notices)

    def registration_refusals(self) -> list[str]:
        """Why apply would refuse this plan's creates (``REFUSES_CREATES`` notices)."""
        if not any(isinstance(change, Create) for change in self.changes):
            return []
        return [n.message for n in self.notices if n.kind in REFUSES_CREATES]

    @property
    def writes_access(self) -> bool:
        """Whether applying it writes grants or connection links: a change that manages
        them, or deletes an app that has grants."""
        for change in self.changes:
            if isinstance(change, TenantGrants):
                return True
            if isinstance(change, Declared) and any(n in change.after for n in ACCESS_FIELDS):
                return True
            if isinstance(change, Delete) and change.before.get("grants"):
                return True
        return False

    def count(self, kind: type[Change]) -> int:
        return sum(1 for change in self.changes if type(change) is kind)

    def counts(self) -> dict[str, int]:
        """How many changes of each kind, by action, every kind named: the saved summary."""
        totals = dict.fromkeys(CHANGE_TYPES, 0)
        for change in self.changes:
            totals[change.ACTION] += 1
        return totals

    def tally(self) -> list[tuple[type[Change], int]]:
        """The counts people read: every kind ``ALWAYS_COUNTED``, then the others it has."""
        counts = self.counts()
        kinds = CHANGE_TYPES.values()
        always = [kind for kind in kinds if kind.ALWAYS_COUNTED]
        present = [kind for kind in kinds if not kind.ALWAYS_COUNTED and counts[kind.ACTION]]
        return [(kind, counts[kind.ACTION]) for kind in always + present]

    def unsafe_reasons(self) -> list[str]:
        """Why the safety thresholds refuse this plan (empty when they do not)."""
        if self.owned < self.safety.min_owned or self.owned == 0:
            return []
        reasons = []
        deletes = self.count(Delete)
        updates = self.count(Update)
        if deletes / self.owned > self.safety.max_delete_fraction:
            reasons.append(
                f"{deletes} of {self.owned} owned apps would be deleted "
                f"(more than {self.safety.max_delete_fraction:.0%})"
            )
        if updates / self.owned > self.safety.max_update_fraction:
            reasons.append(
                f"{updates} of {self.owned} owned apps would be updated "
                f"(more than {self.safety.max_update_fraction:.0%})"
            )
        return reasons

    def raise_if_unsafe(self, *, force: bool = False) -> None:
        if self.conflicts:
            lines = "\n".join(
                f"  {c.location}: {c.message}" if c.location else f"  {c.message}"
                for c in self.conflicts
            )
            raise UnsafePlanError(
                f"refused: the manifests ask for apps this owner may not touch\n{lines}"
            )
        reasons = self.unsafe_reasons()
        if reasons and not force:
            raise UnsafePlanError(
                "refused by the safety thresholds (--force to apply anyway): " + "; ".join(reasons)
            )

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "reconciler_version": __version__,
            "owner": self.owner,
            "registry": self.registry,
            "environment": self.environment,
            "manifest_digest": self.manifest_digest,
            "owned": self.owned,
            "matches_registry": self.matches_registry,
            "summary": self.counts(),
            "safety": {
                "max_delete_fraction": self.safety.max_delete_fraction,
                "max_update_fraction": self.safety.max_update_fraction,
                "min_owned": self.safety.min_owned,
            },
            "unsafe": self.unsafe_reasons(),
            "changes": [change.to_data() for change in self.changes],
            "notices": [notice.to_data() for notice in self.notices],
            "conflicts": [conflict.to_data() for conflict in self.conflicts],
        }
        if self.scope.is_partial:
            data["scope"] = self.scope.to_data()
        data["checksum"] = "sha256:" + digest(data)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str = "plan file") -> Plan:
        version = str(data.get("format_version", ""))
        if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise InputError(
                f"{source}: plan format {version!r} is not supported (need {FORMAT_VERSION})"
            )
        body = {k: v for k, v in data.items() if k != "checksum"}
        if data.get("checksum") != "sha256:" + digest(body):
            raise InputError(
                f"{source}: the plan's checksum does not match: it was edited or damaged"
            )
        safety = data.get("safety") or {}
        return cls(
            owner=data["owner"],
            registry=data["registry"],
            environment=data.get("environment"),
            manifest_digest=data.get("manifest_digest", ""),
            owned=int(data.get("owned", 0)),
            safety=Safety().merged(safety),
            changes=tuple(Change.from_data(c) for c in data.get("changes", ())),
            notices=tuple(Notice.from_data(n) for n in data.get("notices", ())),
            conflicts=tuple(Conflict(**c) for c in data.get("conflicts", ())),
            scope=Scope.from_data(data.get("scope")),
        )

    @classmethod
    def from_json(cls, text: str, source: str = "plan file") -> Plan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}"
            ) from exc
        if not isinstance(data, dict) or "changes" not in data:
            raise InputError(f"{source}: not a plan file")
        try:
            return cls.from_data(data, source)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: not a valid plan file ({exc})") from exc
