"""Where a run happens, for GitHub: the repository root, the commit, links to lines.

Everything that asks the environment or git (the pure renderers take the answers as data):
``CommentContext`` for ``render_markdown``, the root that annotation paths are relative to.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from reconciler.core.comment import COMMENT_BUDGET, CommentContext, plan_locations
from reconciler.core.plan import Plan
from reconciler.diagnostics import Diagnostic

__all__ = ["gather_comment_context", "repository_root"]

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")
_GIT_TIMEOUT_SECONDS = 10


def gather_comment_context(
    plan: Plan,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    warnings: Iterable[Diagnostic] = (),
    registry: str = "",
    budget: int = COMMENT_BUDGET,
    saved_plan: str = "",
    now: datetime | None = None,
) -> CommentContext:
    warnings = tuple(warnings)
    commit = (
        environ.get("RECONCILER_COMMIT")
        or environ.get("GITHUB_SHA")
        or _git(cwd, "rev-parse", "HEAD")
    )
    repository_url = _repository_url(environ)
    links: dict[str, str] = {}
    commit_url = ""
    if repository_url and commit:
        commit_url = f"{repository_url}/commit/{commit}"
        root = repository_root(environ, cwd)
        if root is not None:
            for location in plan_locations(plan, warnings):
                url = _location_url(location, f"{repository_url}/blob/{commit}", root, cwd)
                if url:
                    links[location] = url
    made_at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return CommentContext(
        commit=commit,
        made_at=made_at,
        registry=registry,
        warnings=warnings,
        links=links,
        commit_url=commit_url,
        budget=budget,
        saved_plan=saved_plan,
    )


def _repository_url(environ: Mapping[str, str]) -> str:
    server, repository = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{repository}" if server and repository else ""


def _location_url(location: str, blob_url: str, root: Path, cwd: Path) -> str:
    match = _LOCATION.match(location)
    if match is None:
        return ""
    try:
        relative = (cwd / match["file"]).resolve().relative_to(root)
    except ValueError:  # outside the repository: nothing to link to
        return ""
    return f"{blob_url}/{quote(relative.as_posix())}#L{match['line']}"


def repository_root(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """``GITHUB_WORKSPACE`` if set, else git's top level of ``cwd``, else None."""
    environ = os.environ if environ is None else environ
    workspace = environ.get("GITHUB_WORKSPACE") or _git(
        cwd or Path.cwd(), "rev-parse", "--show-toplevel"
    )
    return Path(workspace).resolve() if workspace else None


def _git(cwd: Path, *args: str) -> str:
    """One line of git's output, or "" when git is missing or this is not a repository."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
