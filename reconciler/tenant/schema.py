"""The schema language the embedded tenant checks bodies with, worded as Auth0 words it.

Auth0 validates request bodies against a JSON Schema and answers the first problem as
``Payload validation error: '<detail>' on property <path>.`` (400 ``invalid_body``).
``Rule`` is the part of JSON Schema those schemas use, and ``check`` reports the same
details, so a caller of the embedded tenant reads what the real API would have said.
A PATCH body is an RFC 7386 merge patch (``merge_patch``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import ApiError

__all__ = [
    "FLAG",
    "NONEMPTY_TEXT",
    "TEXT",
    "URLS",
    "JsonObject",
    "Rule",
    "array_rule",
    "check",
    "enum_rule",
    "invalid_body",
    "join_path",
    "json_type",
    "merge_patch",
    "object_rule",
]

JsonObject = dict[str, Any]


def invalid_body(detail: str, path: str = "") -> ApiError:
    where = f" on property {path}" if path else ""
    return ApiError(
        400, "Bad Request", f"Payload validation error: '{detail}'{where}.", "invalid_body"
    )


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(frozen=True)
class Rule:
    """One schema node. An object rule without ``properties`` takes any members."""

    type: str | None = None
    nullable: bool = False
    enum: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: Rule | None = None
    min_items: int | None = None
    properties: Mapping[str, Rule] | None = None
    required: tuple[str, ...] = ()
    key_rule: Rule | None = None
    value_rule: Rule | None = None
    max_properties: int | None = None


def check(value: Any, rule: Rule, path: str = "", *, patch: bool = False) -> None:
    """Raise the first problem with ``value``.

    With ``patch``, objects are read as RFC 7386 merge patches: a null member deletes
    that member and required members may be left out (the merged result is checked later).
    """
    if value is None:
        if rule.nullable or rule.type is None:
            return
        raise invalid_body(f"Expected type {rule.type} but found type null", path)
    found = json_type(value)
    if rule.type is not None and found != rule.type:
        raise invalid_body(f"Expected type {rule.type} but found type {found}", path)
    if isinstance(value, str):
        _check_string(value, rule, path)
    elif found == "integer":
        _check_integer(value, rule, path)
    elif isinstance(value, list | tuple):
        _check_array(value, rule, path)
    elif isinstance(value, dict):
        _check_object(value, rule, path, patch=patch)
    elif found not in ("boolean", "number"):
        raise invalid_body(f"Expected a JSON value but found type {found}", path)


def _check_string(value: str, rule: Rule, path: str) -> None:
    if rule.min_length is not None and len(value) < rule.min_length:
        raise invalid_body(
            f"String is too short ({len(value)} chars), minimum {rule.min_length}", path
        )
    if rule.max_length is not None and len(value) > rule.max_length:
        raise invalid_body(
            f"String is too long ({len(value)} chars), maximum {rule.max_length}", path
        )
    if rule.enum and value not in rule.enum:
        raise invalid_body(f"No enum match for: {json.dumps(value)}", path)
    if rule.pattern is not None and not re.search(rule.pattern, value):
        raise invalid_body(f"String does not match pattern {rule.pattern}: {value}", path)
    if rule.format is not None and not _FORMATS[rule.format](value):
        raise invalid_body(f"Object didn't pass validation for format {rule.format}: {value}", path)


def _check_integer(value: int, rule: Rule, path: str) -> None:
    if rule.minimum is not None and value < rule.minimum:
        raise invalid_body(f"Value {value} is less than minimum {rule.minimum}", path)
    if rule.maximum is not None and value > rule.maximum:
        raise invalid_body(f"Value {value} is greater than maximum {rule.maximum}", path)


def _check_array(value: list[Any] | tuple[Any, ...], rule: Rule, path: str) -> None:
    if rule.min_items is not None and len(value) < rule.min_items:
        raise invalid_body(f"Array is too short ({len(value)}), minimum {rule.min_items}", path)
    for index, item in enumerate(value):
        # Arrays replace what was there, so their items are whole values even in a patch.
        check(item, rule.items or Rule(), f"{path}[{index}]")


def _check_object(value: dict[Any, Any], rule: Rule, path: str, *, patch: bool) -> None:
    if rule.properties is not None and rule.value_rule is None:
        for key in value:
            if key not in rule.properties:
                raise invalid_body(f"Additional properties not allowed: {key}", path)
    if not patch:
        for key in rule.required:
            if key not in value:
                raise invalid_body(f"Missing required property: {key}", path)
    # A patch's members are counted too, nulls included: whether Auth0 checks the body or
    # only the merged result is not published (auth0-fidelity.md section 3), and the body
    # is the stricter reading.
    if rule.max_properties is not None and len(value) > rule.max_properties:
        raise invalid_body(
            f"Too many properties defined ({len(value)}), maximum {rule.max_properties}",
            path,
        )
    for key, member in value.items():
        if not isinstance(key, str):
            raise invalid_body(f"Expected property names of type string: {key!r}", path)
        if rule.key_rule is not None:
            check(key, rule.key_rule, path)
        member_rule = rule.properties.get(key) if rule.properties is not None else rule.value_rule
        if member_rule is None:
            member_rule = Rule()
        if member is None and patch:
            continue
        check(member, member_rule, join_path(path, key), patch=patch)


def _is_https_uri_or_empty(value: str) -> bool:
    if value == "":
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.netloc) and "#" not in value


def _is_date_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper()


_FORMATS = {
    "absolute-https-uri-or-empty": _is_https_uri_or_empty,
    "date-time": _is_date_time,
}


def enum_rule(*values: str, nullable: bool = False) -> Rule:
    return Rule(type="string", enum=values, nullable=nullable)


def array_rule(items: Rule, *, min_items: int | None = None, nullable: bool = False) -> Rule:
    return Rule(type="array", items=items, min_items=min_items, nullable=nullable)


def object_rule(
    properties: Mapping[str, Rule], *, required: tuple[str, ...] = (), nullable: bool = False
) -> Rule:
    return Rule(type="object", properties=properties, required=required, nullable=nullable)


TEXT = Rule(type="string")
NONEMPTY_TEXT = Rule(type="string", min_length=1)
FLAG = Rule(type="boolean")
URLS = array_rule(NONEMPTY_TEXT)


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> JsonObject:
    """RFC 7386: objects merge member by member, null deletes, anything else replaces."""
    merged = copy.deepcopy(dict(target))
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, dict):
            current = merged.get(name)
            merged[name] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged
