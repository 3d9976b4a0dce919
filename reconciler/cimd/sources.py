"""CIMD sources for one run: each document fetched, validated, and weighed against the lock.

A fetched, valid document is used as it is. When a document cannot be fetched or is
invalid, an app that exists keeps what it has (a warning; an error under --strict), and
a new app uses the locked copy if there is one (a warning) or cannot be planned (an
error). Invalid documents are never used, locked or cached. With --locked, a document
that differs from the lock refuses the plan (exit 3).

A document that differs from its locked copy is weighed against it: the security-sensitive
fields it changed go with its Source, and the planner labels the refresh with them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.cimd.document import (
    Finding,
    filtered_document,
    security_sensitive_changes,
    validate_document,
)
from reconciler.cimd.fetch import FetchedDocument
from reconciler.cimd.lockfile import LockEntry, LockFile
from reconciler.core.model import DesiredApp, Source, SourceOrigin
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.errors import CimdError

__all__ = ["Sources", "gather_sources", "lock_entry"]


@dataclass
class Sources:
    documents: dict[str, Source] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unlocked: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


class Fetcher(Protocol):
    """What gather_sources needs of a CimdFetcher (tests pass fakes)."""

    def fetch_many(self, urls: Sequence[str]) -> dict[str, FetchedDocument | CimdError]: ...

    def fetch_many_jwks(self, urls: Sequence[str]) -> dict[str, FetchedDocument | CimdError]: ...


def gather_sources(
    apps: Sequence[DesiredApp],
    registered: Collection[str],
    fetcher: Fetcher,
    lock: LockFile,
    *,
    strict: bool = False,
) -> Sources:
    """The document for each CIMD app; ``registered``: URLs the registry already holds."""
    wanted = {app.cimd: app for app in apps if app.cimd}
    result = Sources()
    fetched = fetcher.fetch_many(list(wanted))
    findings = {
        url: validate_document(url, outcome.document)
        for url, outcome in fetched.items()
        if isinstance(outcome, FetchedDocument)
    }
    key_sets = fetcher.fetch_many_jwks(
        [uri for url, found in findings.items() if (uri := _jwks_uri(fetched[url], found))]
    )
    for url, app in wanted.items():
        where = _location(app)
        outcome = fetched.get(url) or CimdError(f"{url}: not fetched")
        problem = outcome if isinstance(outcome, CimdError) else None
        if isinstance(outcome, FetchedDocument):
            for finding in findings[url]:
                if not finding.is_error:
                    message = f"{url} {finding.path}: {finding.message}"
                    result.diagnostics.append(
                        Diagnostic(where, "cimd-document", message, Severity.WARNING)
                    )
            errors = [f"{f.path}: {f.message}" for f in findings[url] if f.is_error]
            key_set = key_sets.get(_jwks_uri(outcome, findings[url]) or "")
            if isinstance(key_set, CimdError):
                errors = [f"$.jwks_uri: {key_set}"]
            if errors:
                problem = CimdError(f"{url}: invalid document: " + "; ".join(errors))
            else:
                document = filtered_document(outcome.document)
                entry = lock.get(url)
                moved = entry is not None and entry.sha256 != outcome.sha256
                result.documents[url] = Source(
                    url,
                    document,
                    outcome.sha256,
                    outcome.fetched_at,
                    SourceOrigin.FETCHED,
                    sensitive_changes=(
                        tuple(security_sensitive_changes(entry.document, document))
                        if entry is not None and moved
                        else ()
                    ),
                )
                if entry is None or moved:
                    result.unlocked.append(url)
                continue
        assert problem is not None
        result.diagnostics.append(_unusable(url, app, problem, registered, lock, result, strict))
    return result


def _jwks_uri(outcome: FetchedDocument | CimdError, findings: Sequence[Finding]) -> str | None:
    """Where a valid private_key_jwt document's keys are: they must be fetchable and public."""
    if isinstance(outcome, CimdError) or any(finding.is_error for finding in findings):
        return None
    jwks_uri = outcome.document.get("jwks_uri")
    return jwks_uri if isinstance(jwks_uri, str) else None


def _unusable(
    url: str,
    app: DesiredApp,
    problem: CimdError,
    registered: Collection[str],
    lock: LockFile,
    result: Sources,
    strict: bool,
) -> Diagnostic:
    where = _location(app)
    severity = Severity.ERROR if strict else Severity.WARNING
    if url in registered:
        return Diagnostic(
            where, "cimd-fetch", f"{problem}; the registered app is kept as it is", severity
        )
    entry = lock.get(url)
    if entry is None:
        return Diagnostic(
            where,
            "cimd-fetch",
            f"{problem}; the app cannot be registered: no locked copy in {lock.path.name}",
        )
    result.documents[url] = Source(
        url, entry.document, entry.sha256, entry.fetched_at, SourceOrigin.LOCKED
    )
    return Diagnostic(
        where, "cimd-fetch", f"{problem}; using the locked copy from {entry.fetched_at}", severity
    )


def _location(app: DesiredApp) -> Location:
    return app.location or Location(app.key)


def lock_entry(source: Source) -> LockEntry:
    """The lock file's record of a document a plan relied on."""
    return LockEntry(source.url, source.sha256, dict(source.document), source.fetched_at)
