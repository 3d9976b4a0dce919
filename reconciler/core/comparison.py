"""What differs between an app a manifest declares and the registry app it is about.

A ``Comparison`` holds it as data, the canonical field values and the stamp, and the
planner decides from that alone; the field diff people read (a DeepDiff of the fields
that differ) is made from it, and decides nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.changes import FieldChange, Reason
from reconciler.core.cimd_fields import DOCUMENT_FIELDS, mapped_fields
from reconciler.core.model import App, DesiredApp, Source, canonical, project
from reconciler.core.stamp import Stamp, value_hash

__all__ = ["Comparison", "document_fields"]


@dataclass(frozen=True)
class Comparison:
    """What differs, as data; ``describe`` makes the diff people read from it."""

    #: What the registry holds of the fields the manifest owns, and what the manifest asks.
    before: dict[str, Any]
    after: dict[str, Any]
    #: Each field whose canonical value differs, by name, with what changed it.
    fields: dict[str, tuple[Reason, ...]]
    #: The stamp entries (protect, key) the manifest changes: held, then declared.
    stamp: dict[str, tuple[Any, Any]]
    #: The document fields (CIMD) the registered app no longer matches: held, then wanted.
    document: dict[str, tuple[Any, Any]]

    @classmethod
    def of(cls, spec: DesiredApp, app: App, source: Source | None = None) -> Comparison:
        """``spec`` against ``app``; with ``source``, the document a CIMD app is held to."""
        after = spec.comparable()
        before = project(after, app.fields)
        stamp = app.stamp
        changed = sorted(name for name in after if before.get(name) != after[name])
        restamped: dict[str, tuple[Any, Any]] = {}
        if stamp is not None:
            declared = (("protect", stamp.protect, spec.protect), ("key", stamp.key, spec.key))
            restamped = {name: (held, wanted) for name, held, wanted in declared if held != wanted}
        return cls(
            before,
            after,
            {name: _causes(name, before, after, stamp) for name in changed},
            restamped,
            _document_drift(spec, app, source) if source is not None else {},
        )

    @property
    def differs(self) -> bool:
        return bool(self.fields or self.stamp or self.document)

    def reasons(self) -> tuple[Reason, ...]:
        """Why a change is due: the document changed, what changed each field, the manifest
        changed the stamp."""
        upstream = [Reason.UPSTREAM] if self.document else []
        manifest = [Reason.MANIFEST] if self.stamp else []
        fields = [reason for causes in self.fields.values() for reason in causes]
        return tuple(dict.fromkeys([*upstream, *fields, *manifest]))

    def reverted(self) -> frozenset[str]:
        """The fields the change only puts back: edited elsewhere, the manifest unchanged."""
        return frozenset(name for name, causes in self.fields.items() if causes == _REVERT)

    def describe(self) -> tuple[FieldChange, ...]:
        """The diff people read: the document's fields, each changed path, the stamp's."""
        return (
            *(
                FieldChange(f"document.{name}", held, wanted, (Reason.UPSTREAM,))
                for name, (held, wanted) in self.document.items()
            ),
            *_field_changes(self.before, self.after, self.fields),
            *(
                FieldChange(name, held, wanted, (Reason.MANIFEST,))
                for name, (held, wanted) in self.stamp.items()
            ),
        )


_REVERT = (Reason.DRIFT,)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Mapping[str, tuple[Reason, ...]]
) -> list[FieldChange]:
    """Each changed path of these ``fields`` (an object's member, a whole list), labelled
    with what changed its field."""
    from deepdiff import DeepDiff  # only a plan that changes something describes it

    found: dict[str, FieldChange] = {}
    compared = (
        {name: before.get(name) for name in fields},
        {name: after.get(name) for name in fields},
    )
    for levels in DeepDiff(*compared, ignore_order=True, view="tree").values():
        for level in levels:
            path = level.path(output_format="list")
            cut = next((i for i, part in enumerate(path) if isinstance(part, int)), len(path))
            path = path[:cut] or path[:1]
            name = _path_name(path)
            if name in found:
                continue
            found[name] = FieldChange(
                name, _at(before, path), _at(after, path), fields[str(path[0])]
            )
    return [found[name] for name in sorted(found)]


def _path_name(path: Sequence[Any]) -> str:
    """``refresh_token.rotation_type``; a member that is no plain name in brackets:
    ``grants[https://ledger.example.com/].scopes``."""
    first, *rest = (str(part) for part in path)
    return first + "".join(
        f".{part}" if _PLAIN_NAME.fullmatch(part) else f"[{part}]" for part in rest
    )


def _causes(
    name: str, before: Mapping[str, Any], after: Mapping[str, Any], stamp: Stamp | None
) -> tuple[Reason, ...]:
    """What changed a field: the manifest, an edit made elsewhere (drift), or both, as the
    stamp's hash of the value last applied tells."""
    if stamp is None:
        return (Reason.ADOPT,)
    applied = stamp.applied_hash(name)
    if applied is None:
        return (Reason.MANIFEST,)
    causes = []
    if value_hash(after.get(name)) != applied:
        causes.append(Reason.MANIFEST)
    if value_hash(before.get(name)) != applied:
        causes.append(Reason.DRIFT)
    return tuple(causes) or (Reason.DRIFT,)


def document_fields(spec: DesiredApp, source: Source) -> dict[str, Any]:
    """The client fields the document sets and the manifest does not override."""
    mapped = mapped_fields(source.url, source.document)
    return canonical(
        {n: mapped[n] for n in DOCUMENT_FIELDS if n in mapped and n not in spec.fields}
    )


def _document_drift(spec: DesiredApp, app: App, source: Source) -> dict[str, tuple[Any, Any]]:
    """Where the registered app no longer matches its document (a refresh is due): each
    field as the app holds it, then as the document wants it."""
    wanted = document_fields(spec, source)
    held = canonical({name: app.record.get(name) for name in wanted})
    return {name: (held[name], wanted[name]) for name in wanted if held[name] != wanted[name]}


def _at(data: Mapping[str, Any], path: Sequence[Any]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
