from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from reconciler.cimd.lockfile import LockEntry, LockFile
from reconciler.errors import InputError, ReconcilerError

A_URL = "https://a.example/client.json"
B_URL = "https://b.example/client.json"


def entry(url: str, name: str = "App", digest: str = "ab" * 32) -> LockEntry:
    return LockEntry(
        url=url,
        sha256=f"sha256:{digest}",
        document={"client_id": url, "client_name": name, "redirect_uris": ["https://x/cb"]},
        fetched_at="2026-05-01T12:00:00Z",
    )


def test_a_missing_file_is_an_empty_lock(tmp_path: Path) -> None:
    lock = LockFile.load(tmp_path / "reconciler.lock")

    assert lock.entries == {}
    assert lock.get(A_URL) is None


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.lock"
    original = LockFile.load(path).with_entries([entry(A_URL), entry(B_URL, "Bé")])

    original.save()
    loaded = LockFile.load(path)

    assert loaded == original
    assert loaded.get(B_URL) == entry(B_URL, "Bé")


def test_the_file_is_sorted_indented_and_ends_with_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.lock"

    LockFile(path).with_entries([entry(B_URL), entry(A_URL)]).save()

    text = path.read_text(encoding="utf-8")
    assert text == (
        "{\n"
        '  "documents": {\n'
        f'    "{A_URL}": {{\n'
        '      "document": {\n'
        f'        "client_id": "{A_URL}",\n'
        '        "client_name": "App",\n'
        '        "redirect_uris": [\n'
        '          "https://x/cb"\n'
        "        ]\n"
        "      },\n"
        '      "fetched_at": "2026-05-01T12:00:00Z",\n'
        f'      "sha256": "sha256:{"ab" * 32}"\n'
        "    },\n"
        f'    "{B_URL}": {{\n'
        '      "document": {\n'
        f'        "client_id": "{B_URL}",\n'
        '        "client_name": "App",\n'
        '        "redirect_uris": [\n'
        '          "https://x/cb"\n'
        "        ]\n"
        "      },\n"
        '      "fetched_at": "2026-05-01T12:00:00Z",\n'
        f'      "sha256": "sha256:{"ab" * 32}"\n'
        "    }\n"
        "  },\n"
        '  "version": 1\n'
        "}\n"
    )


def test_saving_the_same_entries_in_any_order_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.lock", tmp_path / "second.lock"

    LockFile(first).with_entries([entry(A_URL), entry(B_URL)]).save()
    LockFile(second).with_entries([entry(B_URL), entry(A_URL)]).save()

    assert first.read_bytes() == second.read_bytes()


def test_with_entries_returns_an_updated_copy(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "reconciler.lock").with_entries([entry(A_URL)])

    updated = lock.with_entries([entry(A_URL, "Renamed", "cd" * 32), entry(B_URL)])

    assert lock.get(A_URL) == entry(A_URL)
    assert lock.get(B_URL) is None
    assert updated.get(A_URL) == entry(A_URL, "Renamed", "cd" * 32)
    assert set(updated.entries) == {A_URL, B_URL}


def test_a_failed_save_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reconciler.lock"
    LockFile(path).with_entries([entry(A_URL)]).save()
    before = path.read_bytes()

    def no_rename(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(ReconcilerError, match="cannot write the lock file"):
        LockFile(path).with_entries([entry(A_URL, "Changed"), entry(B_URL)]).save()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reconciler.lock"]


def test_save_writes_a_new_file_and_renames_it_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reconciler.lock"
    path.write_text("old\n", encoding="utf-8")
    renames: list[tuple[str, str, str]] = []
    real_replace = os.replace

    def watched_replace(source: str, target: str) -> None:
        renames.append((Path(source).name, Path(target).name, Path(source).read_text()))
        assert path.read_text() == "old\n"  # untouched until the rename
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watched_replace)
    LockFile(path).with_entries([entry(A_URL)]).save()

    [(source, target, content)] = renames
    assert source != "reconciler.lock" and target == "reconciler.lock"
    assert content == path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reconciler.lock"]


def test_save_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.lock"
    LockFile(path).save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    path.chmod(0o600)
    LockFile(path).with_entries([entry(A_URL)]).save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bad_json_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.lock"
    path.write_text('{\n  "version": 1,\n  "documents": {,}\n}\n', encoding="utf-8")

    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:3:17: invalid JSON: "):
        LockFile.load(path)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not a version 1 lock file"),
        ({"version": 2, "documents": {}}, "not a version 1 lock file"),
        ({"version": 1, "documents": []}, '"documents" must be an object'),
        ({"version": 1, "documents": {A_URL: "x"}}, f"the entry for {A_URL} must be an object"),
        (
            {"version": 1, "documents": {A_URL: {"fetched_at": "t", "document": {}}}},
            f'the entry for {A_URL} needs "sha256"',
        ),
        (
            {"version": 1, "documents": {A_URL: {"sha256": "sha256:ab", "document": {}}}},
            f'the entry for {A_URL} needs "fetched_at"',
        ),
        (
            {"version": 1, "documents": {A_URL: {"sha256": "sha256:ab", "fetched_at": "t"}}},
            f'the entry for {A_URL} needs "document"',
        ),
    ],
)
def test_a_malformed_lock_file_is_an_input_error(
    tmp_path: Path, data: object, problem: str
) -> None:
    path = tmp_path / "reconciler.lock"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(InputError, match=f"^{re.escape(str(path))}: ") as caught:
        LockFile.load(path)

    assert problem in str(caught.value)


def test_a_lock_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.lock"
    path.write_bytes(b'{"version": 1, "documents": {"\xff": {}}}')

    with pytest.raises(InputError, match="cannot read the lock file"):
        LockFile.load(path)
