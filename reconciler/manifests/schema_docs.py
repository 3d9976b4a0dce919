"""The manifest reference page (docs/manifest.md), generated from the manifest schema.

The schema is where every field is documented, once; this page is only its readable
form. ``python -m reconciler.manifests.schema_docs [OUTPUT]`` writes it (default docs/manifest.md);
a test fails when the checked-in page is not what this module writes now.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.manifests.schema import MANIFEST_SCHEMA, load_schema

__all__ = ["DEFAULT_OUTPUT", "main", "manifest_reference"]

DEFAULT_OUTPUT = Path("docs") / "manifest.md"

_TYPE_WORDS = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "object": "mapping",
    "array": "list",
    "null": "null",
}


def manifest_reference(schema: Mapping[str, Any] | None = None) -> str:
    """The reference page for ``schema`` (the manifest schema by default), as markdown."""
    schema = schema if schema is not None else load_schema(MANIFEST_SCHEMA)
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    app = definitions["app"]
    apps = schema["properties"]["apps"]
    lines = [
        "# Manifest reference",
        "",
        "<!-- Generated from schemas/manifest.schema.json by"
        " `python -m reconciler.manifests.schema_docs`;"
        " do not edit: edit the schema's descriptions and run it again. -->",
        "",
        schema.get("description", ""),
        "",
        "```yaml",
        "# yaml-language-server: $schema=../schemas/manifest.schema.json",
        "apps:",
        "  <app key>:",
        "    <field>: <value>",
        "```",
        "",
        f"**App keys**: {apps.get('description', '')} "
        f"Pattern: `{apps['propertyNames']['pattern']}`.",
        "",
        "## Apps",
        "",
        app.get("description", ""),
        "",
        *_required_note(app),
        "| Field | Type | Summary |",
        "| --- | --- | --- |",
    ]
    fields: Mapping[str, Any] = app["properties"]
    for name, member in fields.items():
        resolved = _resolve(member, definitions)
        lines.append(
            f"| [`{name}`](#{_anchor(name)}) | {_kind(resolved, definitions)} "
            f"| {_first_sentence(_description(member, resolved))} |"
        )
    lines.append("")
    for name, member in fields.items():
        lines.extend(_field(name, member, definitions, level=3))
    tenant_wide = {name: member for name, member in schema["properties"].items() if name != "apps"}
    if tenant_wide:
        lines.extend(["## Tenant-wide keys", "", "Top-level keys beside `apps`.", ""])
        for name, member in tenant_wide.items():
            lines.extend(_field(name, member, definitions, level=3))
    return "\n".join(lines).rstrip("\n") + "\n"


def _required_note(app: Mapping[str, Any]) -> list[str]:
    required = app.get("else", {}).get("required", [])
    beside = app.get("then", {}).get("propertyNames", {}).get("enum", [])
    lines = []
    if required:
        lines.append("Required without `cimd`: " + ", ".join(f"`{n}`" for n in required) + ".")
    if beside:
        lines.append("Allowed beside `cimd`: " + ", ".join(f"`{n}`" for n in beside) + ".")
    return [*lines, ""] if lines else []


def _field(
    path: str, member: Mapping[str, Any], definitions: Mapping[str, Any], level: int
) -> Iterator[str]:
    resolved = _resolve(member, definitions)
    yield f"{'#' * level} `{path}`"
    yield ""
    description = _description(member, resolved)
    if description:
        yield description
        yield ""
    yield f"- Type: {_kind(resolved, definitions)}"
    yield from _facts(resolved, definitions)
    if "default" in member or "default" in resolved:
        yield f"- Default: `{_json(member.get('default', resolved.get('default')))}`"
    examples = member.get("examples") or resolved.get("examples") or []
    for example in examples:
        yield f"- Example: `{_json(example)}`"
    yield ""
    item = _resolve(resolved.get("items", {}), definitions)
    if item.get("properties"):
        yield f"Each entry: {_description(item, item)}"
        yield ""
        yield from _facts(item, definitions)
        yield ""
    nested: Mapping[str, Any] = resolved.get("properties") or item.get("properties") or {}
    prefix = f"{path}[]" if "items" in resolved else path
    for name, child in nested.items():
        yield from _field(f"{prefix}.{name}", child, definitions, min(level + 1, 6))


def _facts(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> Iterator[str]:
    values = _enum(schema, definitions) if "properties" not in schema else ()
    if values:
        yield "- Allowed values: " + ", ".join(f"`{v}`" for v in values)
    bounds = [
        f"{word} {schema[keyword]}"
        for keyword, word in (
            ("minLength", "at least"),
            ("maxLength", "at most"),
            ("minimum", "minimum"),
            ("maximum", "maximum"),
        )
        if keyword in schema
    ]
    if bounds:
        unit = " characters" if schema.get("type") == "string" else ""
        yield f"- Bounds: {', '.join(bounds)}{unit}"
    if "pattern" in schema:
        yield f"- Pattern: `{schema['pattern']}`"
    if schema.get("uniqueItems"):
        yield "- No repeated entries"
    required = schema.get("required")
    if required:
        yield "- Required members: " + ", ".join(f"`{n}`" for n in required)
    choices = [c["required"] for c in schema.get("oneOf", []) if "required" in c]
    if choices:
        yield "- Exactly one of: " + ", ".join(f"`{' + '.join(c)}`" for c in choices)


def _kind(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of the allowed values"
    kind = schema.get("type")
    if kind == "array":
        item = _resolve(schema.get("items", {}), definitions)
        inner = _kind(item, definitions)
        return f"list of {inner}" if inner != "value" else "list"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        inner = _kind(_resolve(schema["additionalProperties"], definitions), definitions)
        return f"mapping of string to {inner}"
    if isinstance(kind, str):
        return _TYPE_WORDS.get(kind, kind)
    if isinstance(kind, list):
        return " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kind)
    return "value"


def _enum(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> Sequence[Any]:
    if "enum" in schema:
        values: Sequence[Any] = schema["enum"]
        return values
    if schema.get("type") == "array":
        return _enum(_resolve(schema.get("items", {}), definitions), definitions)
    return ()


def _resolve(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = schema.get("$ref")
    if not isinstance(reference, str):
        return schema
    target = definitions[reference.rpartition("#/$defs/")[2]]
    return _resolve(target, definitions)


def _description(member: Mapping[str, Any], resolved: Mapping[str, Any]) -> str:
    text = str(member.get("description") or resolved.get("description") or "")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return (head + dot).strip().replace("|", "\\|")


def _anchor(name: str) -> str:
    return name.lower().replace(".", "").replace("[]", "")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    output = Path(arguments[0]) if arguments else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(manifest_reference(), "utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
