"""JSON Schema validation with every finding mapped back to the node at fault.

Valid input is answered by the compiled check alone (``schema_code``, generated into
``compiled/``); jsonschema, which names every finding, is loaded only to describe a file
that fails it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from functools import cache
from importlib import import_module, resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from reconciler.diagnostics import Diagnostic
from reconciler.manifests.yamlfile import JsonPath, YamlFile

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

__all__ = ["MANIFEST_SCHEMA", "CONFIG_SCHEMA", "check_schema", "load_schema"]

MANIFEST_SCHEMA = "manifest.schema.json"
CONFIG_SCHEMA = "config.schema.json"
PLAN_SCHEMA = "plan.schema.json"
#: The schemas checked at run time, and their compiled modules in ``compiled/``.
COMPILED_CHECKS = {MANIFEST_SCHEMA: "manifest", CONFIG_SCHEMA: "config"}

_JSON_TYPES: dict[str, str] = {
    "array": "a list",
    "object": "a mapping",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "number": "a number",
}
_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("reconciler.schemas").joinpath(name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


@cache
def _fast_check(name: str) -> Callable[[Any], Any]:
    """The compiled check of schema ``name``: it answers only valid or not, fast."""
    check: Callable[[Any], Any] = import_module(
        f"reconciler.manifests.compiled.{COMPILED_CHECKS[name]}"
    ).check
    return check


def load_checks() -> None:
    """Load every compiled check now, not at its first use (before a run forks)."""
    for name in COMPILED_CHECKS:
        _fast_check(name)


def is_valid(schema_name: str, instance: Any) -> bool:
    try:
        _fast_check(schema_name)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def check_schema(
    file: YamlFile, schema_name: str, *, data: Any = None, skip_keys: frozenset[str] = frozenset()
) -> list[Diagnostic]:
    """Every schema violation in ``file`` (or in ``data`` located by ``file``).

    ``skip_keys`` are field names another rule already reported (a client_secret is a
    secret before it is an unknown field).
    """
    instance = file.data if data is None else data
    if is_valid(schema_name, instance):
        return []
    found: list[Diagnostic] = []
    for error in _validator(schema_name).iter_errors(instance):
        found.extend(_describe(error, file, skip_keys))
    return found


def _describe(error: ValidationError, file: YamlFile, skip: frozenset[str]) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    here = file.locate(path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for extra in _extras(error.instance, schema):
            if extra in skip:
                continue
            yield Diagnostic(
                file.locate_key((*path, extra)),
                "unknown-field",
                f"unknown field {extra!r}{_suggest(extra, allowed)}",
            )
    elif "propertyNames" in error.relative_schema_path:
        yield from _describe_property_name(error, file, path)
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield Diagnostic(
            here, "required-field", f"missing required field {missing!r}{_where(path)}"
        )
    elif kind == "type":
        expected: Any = error.validator_value
        names = [
            _JSON_TYPES.get(str(n), str(n))
            for n in (expected if isinstance(expected, list) else [expected])
        ]
        got = _TYPE_NAMES.get(type(error.instance), type(error.instance).__name__)
        yield Diagnostic(here, "type", f"{_field(path)} must be {' or '.join(names)}, not {got}")
    elif kind == "enum":
        choices: Any = error.validator_value
        options = [str(o) for o in choices]
        yield Diagnostic(
            here,
            "enum",
            f"{_field(path)}: {error.instance!r} is not one of {', '.join(options)}"
            f"{_suggest(str(error.instance), options)}",
        )
    elif kind == "oneOf" and path and "credentials" in path:
        yield Diagnostic(
            here, "credential-source", "a credential takes exactly one of public_key_file or pem"
        )
    elif kind == "uniqueItems":
        yield Diagnostic(here, "duplicate-item", f"{_field(path)} lists the same value twice")
    elif kind in {"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "pattern"}:
        yield Diagnostic(here, kind.lower().replace("_", "-"), f"{_field(path)}: {error.message}")
    else:
        yield Diagnostic(here, "schema", f"{_field(path)}: {error.message}")


def _describe_property_name(
    error: ValidationError, file: YamlFile, path: JsonPath
) -> Iterator[Diagnostic]:
    name = str(error.instance)
    where = file.locate_key((*path, name))
    if path == ("apps",):
        yield Diagnostic(
            where,
            "app-key",
            f"app key {name!r} must be 1-63 characters of a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    elif error.validator == "enum" and len(path) == 2 and path[0] == "apps":
        yield Diagnostic(
            where,
            "cimd-field",
            f"field {name!r} cannot be set on a CIMD app: it comes from the metadata document "
            "or the registry does not let it be edited",
        )
    else:
        yield Diagnostic(where, "key-name", f"invalid key {name!r}: {error.message}")


def _extras(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    known = set(schema.get("properties", {}))
    return [key for key in instance if key not in known]


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _field(path: JsonPath) -> str:
    if not path:
        return "document"
    if len(path) == 2 and path[0] == "apps":
        return f"app {path[1]!r}"
    if len(path) > 2 and path[0] == "apps":
        path = path[1:]
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _where(path: JsonPath) -> str:
    return f" in {_field(path)}" if path else ""
