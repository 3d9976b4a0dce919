from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.files import (
    append_durably,
    create_temporary,
    remove_temporaries,
    replace_atomically,
    wait_for_flock,
)


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_replace_writes_the_text_with_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    replace_atomically(path, "{}\n", mode=0o640)
    assert path.read_text("utf-8") == "{}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    replace_atomically(path, '{"é": 1}\n')
    assert path.read_bytes() == '{"é": 1}\n'.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert names(tmp_path) == ["state.json"]


def test_replace_renames_a_temporary_file_beside_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("old\n", "utf-8")
    renamed: list[tuple[Path, str]] = []
    real_replace = os.replace

    def watched(source: str | Path, target: str | Path) -> None:
        renamed.append((Path(source), Path(source).read_text("utf-8")))
        assert path.read_text("utf-8") == "old\n"  # untouched until the rename
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watched)
    replace_atomically(path, "new\n", label="4242.")

    [(temporary, content)] = renamed
    assert temporary.parent == tmp_path and content == "new\n"
    assert temporary.name.startswith(".state.json.4242.") and temporary.name.endswith(".tmp")
    assert path.read_text("utf-8") == "new\n"


def test_replace_syncs_the_file_and_then_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def watched(descriptor: int) -> None:
        synced.append("directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", watched)
    replace_atomically(tmp_path / "state.json", "{}\n")
    assert synced == ["file", "directory"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_replace_leaves_the_old_file_whole_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "state.json"
    replace_atomically(path, "old\n", mode=0o644)

    def no_space(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, no_space)
    with pytest.raises(OSError, match="No space left on device"):
        replace_atomically(path, "new\n")

    assert path.read_text("utf-8") == "old\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert names(tmp_path) == ["state.json"]


def test_a_failed_write_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        replace_atomically(tmp_path / "state.json", "new\n")
    assert names(tmp_path) == []


def test_append_adds_whole_lines_and_mends_a_torn_one(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    append_durably(path, '{"op": "create"}', mode=0o640)
    append_durably(path, '{"op": "done"}\n')
    assert path.read_text("utf-8") == '{"op": "create"}\n{"op": "done"}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"op": "cre')  # a writer killed mid-line
    append_durably(path, '{"op": "done"}')
    assert path.read_text("utf-8").splitlines()[-2:] == ['{"op": "cre', '{"op": "done"}']


def test_remove_temporaries_removes_only_those_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    descriptor, left = create_temporary(path, "99.")
    os.close(descriptor)
    (tmp_path / ".state.json.abc123.tmp").write_text("{}")
    keep = [".other.json.abc.tmp", ".state.json.lock", "state.json", "state.json.tmp"]
    for name in keep:
        (tmp_path / name).write_text("")

    assert left.name.startswith(".state.json.99.")
    remove_temporaries(path)
    assert names(tmp_path) == sorted(keep)


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A lock file already held, through another open file description."""
    path = tmp_path / "lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        yield path, holder
    finally:
        os.close(holder)


def test_a_free_lock_is_taken_without_waiting(tmp_path: Path) -> None:
    waits: list[None] = []
    descriptor = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        wait_for_flock(descriptor, 0, on_wait=lambda: waits.append(None))
        assert waits == []
    finally:
        os.close(descriptor)


def test_a_held_lock_with_no_time_to_wait_is_busy_at_once(held_lock: tuple[Path, int]) -> None:
    path, _ = held_lock
    waits: list[None] = []
    descriptor = os.open(path, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            wait_for_flock(descriptor, 0, on_wait=lambda: waits.append(None))
    finally:
        os.close(descriptor)
    assert waits == []


def test_the_lock_is_taken_once_its_holder_lets_go(held_lock: tuple[Path, int]) -> None:
    path, holder = held_lock
    waits: list[None] = []

    def release() -> None:
        waits.append(None)
        fcntl.flock(holder, fcntl.LOCK_UN)

    descriptor = os.open(path, os.O_RDWR)
    try:
        wait_for_flock(descriptor, 60, on_wait=release)
        with pytest.raises(BlockingIOError):
            fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)
    assert waits == [None]


def test_on_wait_is_called_once_however_long_the_wait(
    held_lock: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = held_lock
    clock = iter(range(100))
    monkeypatch.setattr("reconciler.files.time.monotonic", lambda: float(next(clock)))
    monkeypatch.setattr("reconciler.files.time.sleep", lambda _: None)
    waits: list[None] = []
    descriptor = os.open(path, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            wait_for_flock(descriptor, 5, on_wait=lambda: waits.append(None))
    finally:
        os.close(descriptor)
    assert waits == [None]
