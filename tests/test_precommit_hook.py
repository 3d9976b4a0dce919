"""The pre-commit hook, run by pre-commit itself against this repository.

A scratch repository carries the README's configuration (``repo:`` this repository,
``rev:`` a commit sha, as there are no tags); ``pre-commit run`` installs the hook as a
user's would (a virtualenv, ``pip install`` of this repository) and runs it on what is
staged, so these tests also check the hook's ``files:`` filter. Not ``try-repo``: it
installs the hook afresh on every run, in a temporary store (some 10 s each).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
HOOK = "reconciler-validate"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def hook_revision(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A clone of this checkout and the commit to pin: this checkout as it is, as one commit.

    ``git stash create`` makes that commit (uncommitted edits to tracked files included)
    without touching the checkout; a fresh CI clone has none, and pins HEAD.
    """
    if not (REPOSITORY / ".git").exists():
        pytest.skip("pre-commit needs this repository as a git checkout")
    revision = git(REPOSITORY, "stash", "create").strip()
    revision = revision or git(REPOSITORY, "rev-parse", "HEAD").strip()
    clone = tmp_path_factory.mktemp("hook-repository")
    git(clone, "clone", "-q", "--shared", "--no-checkout", str(REPOSITORY), ".")
    git(clone, "update-ref", "refs/heads/pinned", revision)
    return clone, revision


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store: the hook's environment is installed once, on first use."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def scratch(tmp_path: Path, hook_revision: tuple[Path, str]) -> Path:
    """A git repository holding the example project (tracked files only) and the README's
    pre-commit configuration, pinned to a commit sha, committed."""
    tracked = git(REPOSITORY, "ls-files", "-z", "examples").split("\0")
    for name in filter(None, tracked):
        target = tmp_path / Path(name).relative_to("examples")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPOSITORY / name, target)
    repository, revision = hook_revision
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repository}\n    rev: {revision}\n    hooks: [{{id: {HOOK}}}]\n"
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "the example project")
    return tmp_path


def run_hook(scratch: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook on what ``scratch`` has staged, as ``git commit`` would."""
    environment = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    environment.pop("PYTHONPATH", None)  # the hook runs the copy pre-commit installed
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run"],
        cwd=scratch,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stage(scratch: Path, name: str, old: str, new: str) -> None:
    path = scratch / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    git(scratch, "add", name)


def test_a_good_manifest_passes_a_bad_one_fails(scratch: Path, pre_commit_home: Path) -> None:
    stage(scratch, "apps/mobile.yaml", "name: Wallet (iOS and Android)", "name: Wallet")
    good = run_hook(scratch, pre_commit_home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    stage(scratch, "apps/mobile.yaml", "type: native", "type: toaster")
    bad = run_hook(scratch, pre_commit_home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "apps/mobile.yaml" in bad.stdout


def test_a_settings_change_that_breaks_an_environment_fails(
    scratch: Path, pre_commit_home: Path
) -> None:
    """Only reconciler.yaml is staged: prod loses a variable that the manifests use."""
    stage(scratch, "reconciler.yaml", "      DOMAIN: example.com\n", "")
    broken = run_hook(scratch, pre_commit_home)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "variable 'DOMAIN' is not defined" in broken.stdout
