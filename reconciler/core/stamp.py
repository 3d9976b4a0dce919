"""Ownership stamps: what the reconciler writes into an app's metadata to know it again.

Three entries of the registry's own metadata (Auth0 ``client_metadata``, whose values
hold at most 255 characters):

    reconciler_owner    the owner named in reconciler.yaml
    reconciler_key      the app key from the manifests
    reconciler_applied  ``v1:`` then, for each owned field (and ``grants``, ``connections``:
                        what the app may access), one letter naming the field and
                        six hex digits of the hash of the value last applied; then flags:
                        ``;protect`` when the app is protected, ``;pending`` while the
                        secret the registry handed out for it may not have reached a sink
                        (set in the write that creates the app, cleared only after the
                        sink is durably written), ``;f=`` and six hex digits of the hash
                        of the manifest file (relative to the project root) the app was
                        last applied from, so a partial run knows which removed apps are
                        its own to delete

The per-field hashes let a plan tell a manifest change from an edit made elsewhere (drift)
field by field, without keeping any state outside the registry.

Letters run ``a``-``z``, ``0``-``9``, then ``A``-``Z``, each field's fixed for good
(``STAMPED_FIELDS``). An app that owns many fields would pass the 255 characters in this
form (seven characters a field), so such a stamp is written in the compact form ``v2:``:
the same letters and hashes, each hash as four base64url characters (the same 24 bits),
and ``;f=`` likewise: five characters a field, so all 39 fields and every flag take 221
characters, with room for six fields more. Both forms are read; ``v1:`` is written
whenever it fits, so the stamps of apps that own few fields read the same to older
releases.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from sys import intern
from typing import Any

from reconciler.core.fields import STAMPED_FIELDS

__all__ = [
    "MAX_USER_METADATA_KEYS",
    "METADATA_LIMIT",
    "METADATA_VALUE_LIMIT",
    "RESERVED_PREFIX",
    "STAMP_KEYS",
    "Stamp",
    "file_hash",
    "value_hash",
]

RESERVED_PREFIX = "reconciler_"
OWNER_KEY = "reconciler_owner"
APP_KEY = "reconciler_key"
APPLIED_KEY = "reconciler_applied"
STAMP_KEYS = (OWNER_KEY, APP_KEY, APPLIED_KEY)
METADATA_LIMIT = 10
#: The most characters Auth0 keeps in one client_metadata value.
METADATA_VALUE_LIMIT = 255
MAX_USER_METADATA_KEYS = METADATA_LIMIT - len(STAMP_KEYS)

_VERSION = "v1:"
_COMPACT = "v2:"
_PROTECT = "protect"
_PENDING = "pending"
_FILE = "f="
_CODES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CODE_OF = {name: _CODES[i] for i, name in enumerate(STAMPED_FIELDS)}
_FIELD_OF = {code: name for name, code in _CODE_OF.items()}
_HASH_LENGTH = 6
_COMPACT_LENGTH = 4
_UNKNOWN_HASH = "~" * _COMPACT_LENGTH


def value_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LENGTH]


def file_hash(relative_path: str) -> str:
    """The short hash a stamp keeps of the manifest file an app was applied from."""
    return value_hash(relative_path.replace("\\", "/"))


@dataclass(frozen=True, slots=True)
class Stamp:
    owner: str
    key: str
    applied: Mapping[str, str]
    protect: bool = False
    #: The secret handed out for this app may not have reached a sink yet.
    pending: bool = False
    #: ``file_hash`` of the manifest file the app was last applied from ("" unknown).
    source: str = ""

    @classmethod
    def for_fields(
        cls,
        owner: str,
        key: str,
        fields: Mapping[str, Any],
        *,
        protect: bool = False,
        pending: bool = False,
        source: str = "",
    ) -> Stamp:
        """The stamp for an app whose owned fields were just set to ``fields``."""
        hashes = {name: value_hash(value) for name, value in fields.items() if name in _CODE_OF}
        return cls(owner, key, hashes, protect, pending, source)

    @classmethod
    def read(cls, metadata: Mapping[str, Any]) -> Stamp | None:
        owner = metadata.get(OWNER_KEY)
        key = metadata.get(APP_KEY)
        if not isinstance(owner, str) or not isinstance(key, str) or not owner or not key:
            return None
        text = metadata.get(APPLIED_KEY)
        text = text if isinstance(text, str) else ""
        compact = text.startswith(_COMPACT)
        body, *flags = text.removeprefix(_COMPACT if compact else _VERSION).split(";")
        width = _COMPACT_LENGTH if compact else _HASH_LENGTH
        step = 1 + width
        # a field's hash is the same string for every app of equal value: one copy each
        applied = {
            _FIELD_OF[body[i]]: intern(_expanded(body[i + 1 : i + step], compact))
            for i in range(0, len(body) - step + 1, step)
            if body[i] in _FIELD_OF
        }
        source = next((f.removeprefix(_FILE) for f in flags if f.startswith(_FILE)), "")
        return cls(
            intern(owner),
            key,
            applied,
            _PROTECT in flags,
            _PENDING in flags,
            intern(_expanded(source, compact)),
        )

    def to_metadata(self) -> dict[str, str]:
        applied = self._applied_text(compact=False)
        if len(applied) > METADATA_VALUE_LIMIT:
            applied = self._applied_text(compact=True)
        return {OWNER_KEY: self.owner, APP_KEY: self.key, APPLIED_KEY: applied}

    def _applied_text(self, *, compact: bool) -> str:
        def hashed(value: str) -> str:
            return _compacted(value) if compact else value

        body = "".join(
            _CODE_OF[name] + hashed(self.applied[name])
            for name in STAMPED_FIELDS
            if name in self.applied
        )
        flags = [_PROTECT] if self.protect else []
        flags += [_PENDING] if self.pending else []
        flags += [_FILE + hashed(self.source)] if self.source else []
        version = _COMPACT if compact else _VERSION
        return version + body + "".join(";" + flag for flag in flags)

    def delivered(self) -> Stamp:
        """The same stamp once the app's secret is durably in a sink."""
        return replace(self, pending=False)

    def applied_hash(self, name: str) -> str | None:
        return self.applied.get(name)


def _compacted(hex_hash: str) -> str:
    """Six hex digits as four base64url characters; what is no such hash (read from a
    damaged stamp, so it matches no value) as four characters that match none either."""
    try:
        raw = bytes.fromhex(hex_hash)
    except ValueError:
        raw = b""
    if len(raw) != _HASH_LENGTH // 2:
        return _UNKNOWN_HASH
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _expanded(text: str, compact: bool) -> str:
    """A hash as a compact stamp wrote it, back as six hex digits."""
    if not compact or len(text) != _COMPACT_LENGTH:
        return text
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True).hex()
    except ValueError:
        return text
