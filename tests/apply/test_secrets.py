"""The --secrets-out sink: durable, private, merged across runs, never rewritten when foreign."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from reconciler.apply.secrets import SecretsFile
from reconciler.errors import InputError


def test_a_secret_is_on_disk_with_owner_only_mode_when_add_returns(tmp_path: Path) -> None:
    sink = SecretsFile(tmp_path / "out" / "secrets.json")
    sink.add("web", "id-1", "s3cret", "sqlite:r.db")
    held = json.loads((tmp_path / "out" / "secrets.json").read_text())
    assert held["web"]["client_id"] == "id-1" and held["web"]["client_secret"] == "s3cret"
    assert held["web"]["how"] == "created"
    assert stat.S_IMODE((tmp_path / "out" / "secrets.json").stat().st_mode) == 0o600
    assert sink.holds("web", "id-1") and not sink.holds("web", "id-2")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "not a JSON object"),
        ('{"web": "just a string"}', "not a JSON object"),
    ],
)
def test_a_sink_that_is_not_ours_is_refused_and_left_as_it_is(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(text)
    with pytest.raises(InputError, match=why) as refused:
        SecretsFile(path)
    assert "never rewritten" in str(refused.value)
    assert path.read_text() == text


def test_an_undecodable_sink_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputError, match="not UTF-8"):
        SecretsFile(path)
    assert path.read_bytes() == b"\xff\xfe{}"


def test_an_empty_sink_is_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("")
    SecretsFile(path).add("web", "id", "s", "r")
    assert set(json.loads(path.read_text())) == {"web"}


def test_temporaries_left_by_killed_runs_are_swept_on_open(tmp_path: Path) -> None:
    dead = tmp_path / ".secrets.json.4242.abcd1234.tmp"
    legacy = tmp_path / ".secrets-x1Y2z3W4"
    unrelated = tmp_path / ".other.json.1.abc.tmp"
    for path in (dead, legacy, unrelated):
        path.write_text('{"web": {"client_secret": "leaked"}}')
    SecretsFile(tmp_path / "secrets.json")
    assert not dead.exists() and not legacy.exists()
    assert unrelated.exists(), "only the temporaries of this sink are ours to remove"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        SecretsFile(tmp_path)


def _add_many(path: str, prefix: str) -> None:
    sink = SecretsFile(Path(path))
    for i in range(25):
        sink.add(f"{prefix}-{i}", f"id-{prefix}-{i}", "s", "r")


def test_two_processes_writing_one_sink_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_add_many, args=(str(path), p)) for p in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    held = json.loads(path.read_text())
    assert set(held) == {f"{p}-{i}" for p in ("a", "b") for i in range(25)}
