from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.manifests.schema import MANIFEST_SCHEMA, load_schema
from reconciler.manifests.schema_docs import main, manifest_reference

PAGE = Path(__file__).parents[2] / "docs" / "manifest.md"


def test_the_checked_in_reference_page_is_what_the_schema_says_now() -> None:
    """Regenerate with `python -m reconciler.manifests.schema_docs` when this fails."""
    assert PAGE.read_text("utf-8") == manifest_reference(), (
        "docs/manifest.md is out of date: run python -m reconciler.manifests.schema_docs"
    )


def _members(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    definitions = load_schema(MANIFEST_SCHEMA)["$defs"]
    for name, member in schema.get("properties", {}).items():
        yield f"{path}{name}", member
        target = member
        if "$ref" in member:
            target = definitions[member["$ref"].removeprefix("#/$defs/")]
        if "items" in target and "$ref" in target["items"]:
            target = definitions[target["items"]["$ref"].removeprefix("#/$defs/")]
        yield from _members(target, f"{path}{name}.")


def test_every_app_field_and_nested_member_is_described() -> None:
    app = load_schema(MANIFEST_SCHEMA)["$defs"]["app"]
    members = dict(_members(app))
    assert {"refresh_token.rotation_type", "credentials.pem", "jwt_configuration.alg"} <= set(
        members
    )
    assert [path for path, member in members.items() if not member.get("description")] == []


def test_every_field_has_its_section_and_a_row_in_the_table() -> None:
    page = manifest_reference()
    for name in load_schema(MANIFEST_SCHEMA)["$defs"]["app"]["properties"]:
        assert f"\n### `{name}`\n" in page
        assert f"| [`{name}`](#{name}) |" in page
    assert "#### `credentials[].public_key_file`" in page
    assert "- Allowed values: `native`, `spa`, `regular_web`, `m2m`" in page


def test_main_writes_the_page_where_it_is_told(tmp_path: Path) -> None:
    target = tmp_path / "out" / "manifest.md"
    assert main([str(target)]) == 0
    assert target.read_text("utf-8") == manifest_reference()
