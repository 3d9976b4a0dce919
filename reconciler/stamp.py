"""Ownership stamps: what the reconciler writes into an app's metadata to know it again.

Three entries of the registry's own metadata (Auth0 ``client_metadata``):

    reconciler_owner    the owner named in reconciler.yaml
    reconciler_key      the app key from the manifests
    reconciler_applied  the digest of what was last applied, and ``;protect`` when protected
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_USER_METADATA_KEYS",
    "METADATA_LIMIT",
    "RESERVED_PREFIX",
    "STAMP_KEYS",
    "Stamp",
]

RESERVED_PREFIX = "reconciler_"
OWNER_KEY = "reconciler_owner"
APP_KEY = "reconciler_key"
APPLIED_KEY = "reconciler_applied"
STAMP_KEYS = (OWNER_KEY, APP_KEY, APPLIED_KEY)
METADATA_LIMIT = 10
MAX_USER_METADATA_KEYS = METADATA_LIMIT - len(STAMP_KEYS)
_PROTECT = ";protect"


@dataclass(frozen=True)
class Stamp:
    owner: str
    key: str
    digest: str = ""
    protect: bool = False

    @classmethod
    def read(cls, metadata: Mapping[str, str]) -> Stamp | None:
        owner = metadata.get(OWNER_KEY)
        key = metadata.get(APP_KEY)
        if not owner or not key:
            return None
        applied = metadata.get(APPLIED_KEY, "")
        return cls(owner, key, applied.removesuffix(_PROTECT), applied.endswith(_PROTECT))

    def to_metadata(self) -> dict[str, str]:
        applied = self.digest + (_PROTECT if self.protect else "")
        return {OWNER_KEY: self.owner, APP_KEY: self.key, APPLIED_KEY: applied}
