"""The pre-commit hook, run by pre-commit itself against this repository.

``pre-commit try-repo`` installs the hook from a commit of this repository as a user's
``rev:`` would (a virtualenv, ``pip install`` of the repository) and runs it on what a
scratch repository holding the example project has staged, so these tests also check the
hook's ``files:`` filter. try-repo installs afresh on every run (some 10 s each), so the
three cases the issue names are three runs, no more.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

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


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A git repository holding the example project (tracked files only), committed."""
    tracked = git(REPOSITORY, "ls-files", "-z", "examples").split("\0")
    for name in filter(None, tracked):
        target = tmp_path / Path(name).relative_to("examples")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPOSITORY / name, target)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "the example project")
    return tmp_path


def run_hook(scratch: Path, hook: tuple[Path, str]) -> subprocess.CompletedProcess[str]:
    """Run the hook on what ``scratch`` has staged, as ``git commit`` would."""
    repository, revision = hook
    environment = {**os.environ, "PRE_COMMIT_COLOR": "never"}
    environment.pop("PYTHONPATH", None)  # the hook runs the copy pre-commit installed
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repository), HOOK, "--ref", revision],
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


def test_a_good_manifest_passes_a_bad_one_fails(
    scratch: Path, hook_revision: tuple[Path, str]
) -> None:
    stage(scratch, "apps/mobile.yaml", "name: Wallet (iOS and Android)", "name: Wallet")
    good = run_hook(scratch, hook_revision)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    stage(scratch, "apps/mobile.yaml", "type: native", "type: toaster")
    bad = run_hook(scratch, hook_revision)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "apps/mobile.yaml" in bad.stdout


def test_a_settings_change_that_breaks_an_environment_fails(
    scratch: Path, hook_revision: tuple[Path, str]
) -> None:
    """Only reconciler.yaml is staged: prod loses a variable that the manifests use."""
    stage(scratch, "reconciler.yaml", "      DOMAIN: example.com\n", "")
    broken = run_hook(scratch, hook_revision)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "variable 'DOMAIN' is not defined" in broken.stdout
