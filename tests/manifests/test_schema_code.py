from __future__ import annotations

from pathlib import Path

from reconciler.manifests.schema import COMPILED_CHECKS
from reconciler.manifests.schema_code import COMPILED_DIRECTORY, compiled_source, main


def test_the_checked_in_checks_are_what_the_schemas_compile_to_now() -> None:
    """Regenerate with `python -m reconciler.manifests.schema_code` when this fails."""
    for schema_name, module in COMPILED_CHECKS.items():
        checked_in = (COMPILED_DIRECTORY / f"{module}.py").read_text("utf-8")
        assert checked_in == compiled_source(schema_name), (
            f"compiled/{module}.py is out of date: run python -m reconciler.manifests.schema_code"
        )


def test_main_writes_every_check_where_it_is_told(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.py", "manifest.py"]
