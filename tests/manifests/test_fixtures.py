"""Every error class has a fixture; each must give its rule at its exact place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.diagnostics import Diagnostic
from reconciler.manifests.workspace import Options, Workspace

BAD = Path(__file__).parent.parent / "fixtures" / "bad"
EXPECTED: dict[str, list[object]] = yaml.safe_load((BAD / "expected.yaml").read_text())


def diagnostics_for(path: Path) -> list[Diagnostic]:
    workspace = Workspace.open(Options(paths=(path,), config=None))
    return list(workspace.validate().diagnostics)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture_reports_rule_at_location(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    rule, line, column, *file = EXPECTED[name]
    found = diagnostics_for(Path(name))
    errors = [d for d in found if d.is_error]
    assert errors, f"{name}: no error reported"
    first = errors[0]
    assert (first.rule, first.location.line, first.location.column) == (rule, line, column), str(
        first
    )
    assert first.location.file == (file[0] if file else name)


def test_every_bad_fixture_is_listed() -> None:
    on_disk = {p.name for p in BAD.iterdir() if p.name != "expected.yaml"}
    assert on_disk == set(EXPECTED)


def test_duplicate_app_names_both_locations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    [found] = [d for d in diagnostics_for(Path("duplicate-app")) if d.rule == "duplicate-app"]
    assert "duplicate-app/one.yaml:2:3" in found.message


def test_file_over_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("apps: {}\n# " + "x" * (1024 * 1024) + "\n")
    [found] = diagnostics_for(big)
    assert (found.rule, found.location.line, found.location.column) == ("file-too-large", 1, 1)


def test_good_fixtures_have_no_errors(fixtures: Path) -> None:
    report = Workspace.open(Options(paths=(fixtures / "good",))).validate()
    assert report.ok, [str(d) for d in report.diagnostics]
    assert report.apps == 7


def test_warning_is_not_an_error_unless_strict(fixtures: Path) -> None:
    path = fixtures / "warn" / "wildcard-redirect.yaml"
    relaxed = Workspace.open(Options(paths=(path,))).validate()
    assert relaxed.ok
    assert [(d.rule, d.severity.value, d.location.line) for d in relaxed.diagnostics] == [
        ("redirect-uri-wildcard", "warning", 5)
    ]
    strict = Workspace.open(Options(paths=(path,))).validate(strict=True)
    assert not strict.ok
