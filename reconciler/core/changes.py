"""Change kinds: each a type that owns its shape, its symbol, its place and its words.

A kind holds what it needs and nothing else: a delete has no ``after``, a create no
``client_id`` (the registry gives it one when it is applied). The field diff and the
reasons are for people (the plan's reader); the applier works only from ``before``,
``after`` and the identity of the app (after Terraform's plans.Change).

Adding a kind is writing one class here, with its class constants, plus what the planner
and the applier do with it: the plan's summary, the renderers and the apply report find
it in ``CHANGE_TYPES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar

from reconciler.core.stamp import file_hash

__all__ = [
    "Adopt",
    "CHANGE_TYPES",
    "Change",
    "Convergence",
    "Create",
    "Declared",
    "Delete",
    "Deliver",
    "FieldChange",
    "Reason",
    "Refresh",
    "Registered",
    "Rotate",
    "TenantGrants",
    "Update",
    "Words",
]


class Reason(StrEnum):
    """Why a change, or one changed field, is in the plan (its value is the plan file's)."""

    NEW = "new"
    ADOPT = "adopt"
    #: The manifest asks for something other than what was last applied.
    MANIFEST = "manifest"
    #: The app was edited outside reconciler since it was last applied.
    DRIFT = "drift"
    #: The CIMD document the app is registered from changed.
    UPSTREAM = "upstream"
    REMOVED = "removed from manifests"
    #: The key now declares an app of the other sort (CIMD or not), so a new one.
    REPLACED = "replaced"
    URL_CHANGED = "url-changed"
    DUPLICATE = "duplicate"
    SECRET_NOT_DELIVERED = "secret not delivered"
    ROTATE_SECRET = "rotate-secret"


@dataclass(frozen=True)
class Words:
    """How people are told of a kind: ``phrase`` after the app in a plan, ``past`` in the
    apply report (``past_many`` when it counts more than one, if it differs)."""

    phrase: str
    past: str
    past_many: str = ""

    def counted(self, count: int) -> str:
        """``3 created``, ``1 secret delivered``, ``2 secrets delivered``."""
        return f"{count} {(self.past_many or self.past) if count > 1 else self.past}"


@dataclass(frozen=True)
class FieldChange:
    """One changed path (``callbacks``, ``refresh_token.rotation_type``) for people to read."""

    path: str
    before: Any
    after: Any
    reasons: tuple[Reason, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data = {"path": self.path, "before": self.before, "after": self.after}
        if self.reasons:
            data["reasons"] = [str(reason) for reason in self.reasons]
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FieldChange:
        return cls(
            data["path"],
            data.get("before"),
            data.get("after"),
            tuple(Reason(reason) for reason in data.get("reasons", ())),
        )


CHANGE_TYPES: dict[str, type[Change]] = {}
"""Every kind by its action, in the order they are defined: the order a summary counts them."""


@dataclass(frozen=True, kw_only=True)
class Change:
    """What every kind holds: ``key``, the app key, and for people ``reasons``, ``risks``
    (labels, see ``risks.RISK_DESCRIPTIONS``), ``notes`` and ``location``: where a manifest
    declares the app (file:line:col), empty when none does (a delete, a rotation).

    A kind's class constants: ``ACTION`` names it in a plan file and is the verb people
    read (``2 to create``); ``SYMBOL`` marks it (+ ~ - ...) in ``COLOUR`` on a terminal;
    ``ORDER`` is its place in the plan (apply runs the kinds in that order); ``WORDS`` say
    what it does and did; an ``ALWAYS_COUNTED`` kind is counted in a plan's closing line
    even when the plan has none (``0 to delete``), the others only when it has some.
    """

    key: str
    reasons: tuple[Reason, ...] = ()
    risks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    location: str = ""

    ACTION: ClassVar[str]
    SYMBOL: ClassVar[str]
    COLOUR: ClassVar[str]
    ORDER: ClassVar[int]
    WORDS: ClassVar[Words]
    ALWAYS_COUNTED: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "ACTION" in vars(cls):
            CHANGE_TYPES[cls.ACTION] = cls

    def sort_key(self) -> tuple[int, str]:
        return (self.ORDER, self.key)

    def to_data(self) -> dict[str, Any]:
        """The plan file's form. Every kind writes the same members in the same order: the
        required ones it does not hold as null, false or empty, the optional ones left out."""
        held: dict[str, Any] = {member.name: getattr(self, member.name) for member in fields(self)}
        data: dict[str, Any] = {"action": self.ACTION, "symbol": self.SYMBOL, "key": self.key}
        data.update({name: held[name] for name in _OPTIONAL_MEMBERS if held.get(name)})
        data["protect"] = held.get("protect", False)
        data["reasons"] = [str(reason) for reason in self.reasons]
        data["risks"] = list(self.risks)
        data["notes"] = list(self.notes)
        data["before"] = _plain(held.get("before"))
        data["after"] = _plain(held.get("after"))
        data["diff"] = [change.to_data() for change in held.get("diff", ())]
        if held.get("keys"):
            data["keys"] = [dict(key) for key in held["keys"]]
        if held.get("source") is not None:
            data["source"] = dict(held["source"])
        return data

    @staticmethod
    def from_data(data: Mapping[str, Any]) -> Change:
        """The change a plan file's member describes; members its kind does not hold are
        ignored, and a member it needs that is missing is a TypeError."""
        kind = CHANGE_TYPES[data["action"]]
        read = {
            member.name: _READERS.get(member.name, _as_is)(data[member.name])
            for member in fields(kind)
            if member.name in data
        }
        return kind(**read)


_OPTIONAL_MEMBERS = ("client_id", "cimd", "location", "file", "fingerprint", "group")


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(value) if value is not None else None


def _as_is(value: Any) -> Any:
    return value


_READERS: dict[str, Callable[[Any], Any]] = {
    "reasons": lambda values: tuple(Reason(value) for value in values),
    "risks": tuple,
    "notes": tuple,
    "protect": bool,
    "diff": lambda values: tuple(FieldChange.from_data(value) for value in values),
    "keys": tuple,
}


# The shapes kinds share.


@dataclass(frozen=True, kw_only=True)
class Registered(Change):
    """A change to an app the registry holds: its id there, and the fingerprint of the app
    as read, which apply checks first (a saved plan is stale once the app changed)."""

    client_id: str
    fingerprint: str


@dataclass(frozen=True, kw_only=True)
class Declared(Change):
    """Makes the registry hold an app as its manifest declares it.

    ``after`` is the declared fields, canonical; ``diff`` what changes, for people.
    ``keys`` carries the public keys (PEM) a create or key rotation needs: public, so safe
    in a plan file, but never part of the diff people read. ``file`` is the manifest file
    that declares the app, relative to the project root; the stamp records it.
    """

    after: Mapping[str, Any]
    diff: tuple[FieldChange, ...] = ()
    protect: bool = False
    cimd: str | None = None
    file: str = ""
    keys: tuple[Mapping[str, Any], ...] = ()

    @property
    def stamp_source(self) -> str:
        """What the stamp records of the manifest file the app is applied from."""
        return file_hash(self.file) if self.file else ""


@dataclass(frozen=True, kw_only=True)
class Convergence(Declared, Registered):
    """Brings an app the registry holds to what its manifest declares; ``before`` is what
    the registry holds of the fields the manifest owns, canonical."""

    before: Mapping[str, Any]


# The kinds, in the order a plan's summary counts them.


@dataclass(frozen=True, kw_only=True)
class Adopt(Convergence):
    """Stamp an existing, unowned app that a manifest names, and converge it."""

    ACTION = "adopt"
    SYMBOL = "@"
    COLOUR = "cyan"
    ORDER = 0
    WORDS = Words("will be adopted", "adopted")


@dataclass(frozen=True, kw_only=True)
class Create(Declared):
    """A new app. ``source`` is the CIMD document a CIMD app registers from (URL, sha256,
    origin, the document)."""

    source: Mapping[str, Any] | None = None

    ACTION = "create"
    SYMBOL = "+"
    COLOUR = "green"
    ORDER = 1
    WORDS = Words("will be created", "created")
    ALWAYS_COUNTED = True


@dataclass(frozen=True, kw_only=True)
class Update(Convergence):
    ACTION = "update"
    SYMBOL = "~"
    COLOUR = "yellow"
    ORDER = 2
    WORDS = Words("will be updated in place", "updated")
    ALWAYS_COUNTED = True


@dataclass(frozen=True, kw_only=True)
class Refresh(Convergence):
    """Re-register a CIMD app from its metadata document (``source``), which changed
    upstream, then re-apply the declared fields."""

    cimd: str
    source: Mapping[str, Any]

    ACTION = "refresh"
    SYMBOL = "←"
    COLOUR = "cyan"
    ORDER = 3
    WORDS = Words("will be re-registered from its metadata document", "refreshed")


@dataclass(frozen=True, kw_only=True)
class Deliver(Registered):
    """Deliver the secret of an app whose stamp says it may never have reached a sink:
    read it back where the registry allows, rotate it where it does not."""

    protect: bool = False

    ACTION = "deliver"
    SYMBOL = "»"
    COLOUR = "cyan"
    ORDER = -1  # first: a run cut off during its creates still delivers
    WORDS = Words(
        "will have its secret delivered to --secrets-out (it may never have been)",
        "secret delivered",
        "secrets delivered",
    )


@dataclass(frozen=True, kw_only=True)
class Rotate(Registered):
    """Replace an app's secret and deliver the new one (``reconciler rotate-secret``)."""

    protect: bool = False

    ACTION = "rotate"
    SYMBOL = "↻"
    COLOUR = "yellow"
    ORDER = -1
    WORDS = Words(
        "will have its secret rotated and delivered to --secrets-out",
        "secret rotated",
        "secrets rotated",
    )


@dataclass(frozen=True, kw_only=True)
class TenantGrants(Declared):
    """The tenant's grants for a group of apps (``group``: Auth0's ``default_for``, every
    third-party app) made what ``third_party_apis`` declares. ``before`` and ``after``
    hold them as an app's ``grants`` field; the key is ``third_party_apis``."""

    before: Mapping[str, Any]
    group: str

    ACTION = "tenant-grants"
    SYMBOL = "~"
    COLOUR = "yellow"
    ORDER = 4
    WORDS = Words(
        "will be updated: the tenant's grants for every third-party app", "tenant grants updated"
    )


@dataclass(frozen=True, kw_only=True)
class Delete(Registered):
    """Remove an app; ``before`` is all its canonical fields. Deletes come last: a run
    that fails part way has removed nothing yet."""

    before: Mapping[str, Any]
    cimd: str | None = None

    ACTION = "delete"
    SYMBOL = "-"
    COLOUR = "red"
    ORDER = 5
    WORDS = Words("will be deleted", "deleted")
    ALWAYS_COUNTED = True
