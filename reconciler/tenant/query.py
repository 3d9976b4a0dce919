"""The GET /clients query string, checked as Auth0 checks it.

Auth0 answers the first problem as ``Query validation error: '<detail>' on property
<name> (<description>).`` (400 ``invalid_query_string``), with its own description of
each parameter; paging, totals, the field projection and the filters come out typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ApiError
from reconciler.tenant.schema import JsonObject, json_type

__all__ = [
    "ClientQuery",
    "Projection",
    "parse_client_query",
    "parse_projection",
    "query_boolean",
    "query_error",
    "query_integer",
    "query_text",
]

_QUERY_DESCRIPTIONS = {
    "page": "Page index of the results to return. First page is 0.",
    "per_page": "Number of results per page. Default value is 50, maximum value is 100.",
    "include_totals": "Return results inside an object that contains the total result count "
    "(true) or as a direct array of results (false, default).",
    "fields": "Comma-separated list of fields to include or exclude (based on value provided "
    "for include_fields) in the result. Leave empty to retrieve all fields.",
    "include_fields": "Whether specified fields are to be included (true) or excluded (false).",
    "is_global": "Optional filter on the global client parameter.",
    "is_first_party": "Optional filter on whether or not a client is a first-party client.",
    "app_type": "Optional filter by a comma-separated list of application types.",
    "external_client_id": "Optional filter by the URL of a Client ID Metadata Document.",
    "identifiers": "An optional filter on the resource server identifier. Must be URL encoded "
    "and may be specified multiple times (max 10).",
    "from": "Optional Id from which to start selection.",
    "take": "Number of results per page. Defaults to 50.",
}


def query_error(detail: str, name: str) -> ApiError:
    message = (
        f"Query validation error: '{detail}' on property {name} "
        f"({_QUERY_DESCRIPTIONS.get(name, name)})."
    )
    return ApiError(400, "Bad Request", message, "invalid_query_string")


@dataclass(frozen=True)
class Projection:
    """``fields`` and ``include_fields``: which members of each client to answer."""

    fields: frozenset[str]
    include: bool

    def apply(self, client: Mapping[str, Any]) -> JsonObject:
        if self.include:
            # Auth0 answers the tenant with every projection, asked for or not.
            return {k: v for k, v in client.items() if k in self.fields or k == "tenant"}
        return {k: v for k, v in client.items() if k not in self.fields}


@dataclass(frozen=True)
class ClientQuery:
    page: int
    per_page: int
    include_totals: bool
    projection: Projection | None
    is_global: bool | None
    is_first_party: bool | None
    app_types: tuple[str, ...]
    external_client_id: str | None


def parse_client_query(
    *,
    page: object,
    per_page: object,
    include_totals: object,
    fields: object,
    include_fields: object,
    is_global: object,
    is_first_party: object,
    app_type: object,
    external_client_id: object,
) -> ClientQuery:
    """GET /clients parameters as a query string (or typed values) gives them."""
    app_types = query_text(app_type, "app_type")
    return ClientQuery(
        page=query_integer(page, "page", default=0, minimum=0),
        per_page=query_integer(per_page, "per_page", default=50, minimum=0, maximum=100),
        include_totals=bool(query_boolean(include_totals, "include_totals")),
        projection=parse_projection(fields, include_fields),
        is_global=query_boolean(is_global, "is_global"),
        is_first_party=query_boolean(is_first_party, "is_first_party"),
        app_types=tuple(t.strip() for t in (app_types or "").split(",") if t.strip()),
        external_client_id=query_text(external_client_id, "external_client_id"),
    )


def parse_projection(fields: object, include_fields: object) -> Projection | None:
    include = query_boolean(include_fields, "include_fields")
    names = frozenset(
        name.strip() for name in (query_text(fields, "fields") or "").split(",") if name.strip()
    )
    if not names:
        return None
    return Projection(names, include is not False)


def query_integer(
    value: object, name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    if value is None:
        return default
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise query_error(f"Expected type integer but found type {json_type(value)}", name)
    if number < minimum:
        raise query_error(f"Value {number} is less than minimum {minimum}", name)
    if maximum is not None and number > maximum:
        raise query_error(f"Value {number} is greater than maximum {maximum}", name)
    return number


def query_boolean(value: object, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise query_error(f"Expected type boolean but found type {json_type(value)}", name)


def query_text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise query_error(f"Expected type string but found type {json_type(value)}", name)
