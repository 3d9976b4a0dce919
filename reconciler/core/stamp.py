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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.core.fields import STAMPED_FIELDS

__all__ = [
    "MAX_USER_METADATA_KEYS",
    "METADATA_LIMIT",
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
MAX_USER_METADATA_KEYS = METADATA_LIMIT - len(STAMP_KEYS)

_VERSION = "v1:"
_PROTECT = "protect"
_PENDING = "pending"
_FILE = "f="
_CODES = "abcdefghijklmnopqrstuvwxyz0123456789"
_CODE_OF = {name: _CODES[i] for i, name in enumerate(STAMPED_FIELDS)}
_FIELD_OF = {code: name for name, code in _CODE_OF.items()}
_HASH_LENGTH = 6


def value_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LENGTH]


def file_hash(relative_path: str) -> str:
    """The short hash a stamp keeps of the manifest file an app was applied from."""
    return value_hash(relative_path.replace("\\", "/"))


@dataclass(frozen=True)
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
        body, *flags = text.removeprefix(_VERSION).split(";")
        step = 1 + _HASH_LENGTH
        applied = {
            _FIELD_OF[body[i]]: body[i + 1 : i + step]
            for i in range(0, len(body) - step + 1, step)
            if body[i] in _FIELD_OF
        }
        source = next((f.removeprefix(_FILE) for f in flags if f.startswith(_FILE)), "")
        return cls(owner, key, applied, _PROTECT in flags, _PENDING in flags, source)

    def to_metadata(self) -> dict[str, str]:
        body = "".join(
            _CODE_OF[name] + self.applied[name] for name in STAMPED_FIELDS if name in self.applied
        )
        flags = [_PROTECT] if self.protect else []
        flags += [_PENDING] if self.pending else []
        flags += [_FILE + self.source] if self.source else []
        return {
            OWNER_KEY: self.owner,
            APP_KEY: self.key,
            APPLIED_KEY: _VERSION + body + "".join(";" + flag for flag in flags),
        }

    def delivered(self) -> Stamp:
        """The same stamp once the app's secret is durably in a sink."""
        return replace(self, pending=False)

    def applied_hash(self, name: str) -> str | None:
        return self.applied.get(name)
