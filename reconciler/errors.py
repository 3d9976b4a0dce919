"""One hierarchy for every error the reconciler reports.

    ReconcilerError                 exit 1 unless said otherwise
    ├── InputError                  bad manifests, config, variables, plan files
    │   └── ManifestError           carries located diagnostics (file:line:col)
    ├── RegistryError               a registry refused, failed or could not be reached
    │   ├── RegistryBusyError       another writer holds the registry
    │   ├── ConflictError           the registry holds something the request contradicts
    │   └── ApiError                an Auth0-style error answer (status, error, message, errorCode)
    ├── CimdError                   a Client ID Metadata Document could not be used
    ├── UnsafePlanError             exit 3: thresholds, ownership, CIMD lock mismatch
    └── StalePlanError              exit 4: a saved plan no longer matches what it saw

Foreign exceptions (yaml, sqlite3, httpx, jsonschema) are translated into these at
the boundary where they happen, so nothing above that boundary sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.diagnostics import Diagnostic

__all__ = [
    "ApiError",
    "CimdError",
    "ConflictError",
    "InputError",
    "ManifestError",
    "ReconcilerError",
    "RegistryBusyError",
    "RegistryError",
    "StalePlanError",
    "UnsafePlanError",
]


class ReconcilerError(Exception):
    exit_code = 1
    #: The same request would fail the same way: running again does not help until
    #: something changes (the manifest, the tenant's plan, the token's scopes).
    persists = False


class InputError(ReconcilerError):
    pass


class ManifestError(InputError):
    """Raised with every diagnostic found, so one run reports all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RegistryError(ReconcilerError):
    pass


class RegistryBusyError(RegistryError):
    pass


class ConflictError(RegistryError):
    persists = True


class ApiError(RegistryError):
    """An Auth0 Management API error, as the API (or our embedded tenant) answers it."""

    def __init__(
        self, status: int, error: str, message: str, error_code: str | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.error_code = error_code
        # A refusal (4xx) not about timing: a 408, a 409 (the create may have been made
        # meanwhile) or a 429 may go through the next time.
        self.persists = 400 <= status < 500 and status not in (408, 409, 429)

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "statusCode": self.status,
            "error": self.error,
            "message": self.message,
        }
        if self.error_code:
            body["errorCode"] = self.error_code
        return body


class CimdError(ReconcilerError):
    pass


class UnsafePlanError(ReconcilerError):
    exit_code = 3


class StalePlanError(ReconcilerError):
    exit_code = 4
