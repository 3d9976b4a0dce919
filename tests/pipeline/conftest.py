from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, the working directory (as a CI job's checkout is)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
