"""Safety: the thresholds past which apply refuses a plan (the settings' ``safety``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Safety"]


@dataclass(frozen=True)
class Safety:
    """Refuse an apply that deletes or updates more than these fractions of owned apps."""

    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_owned: int = 10

    def merged(self, data: Mapping[str, Any] | None) -> Safety:
        if not data:
            return self
        return Safety(
            float(data.get("max_delete_fraction", self.max_delete_fraction)),
            float(data.get("max_update_fraction", self.max_update_fraction)),
            int(data.get("min_owned", self.min_owned)),
        )
