"""HTTP requests and responses as plain values, so the routes never touch a socket."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from reconciler.errors import ApiError

__all__ = [
    "JSON_CONTENT_TYPE",
    "Request",
    "Response",
    "error_response",
    "json_response",
    "no_content",
    "not_found",
    "read_json",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string, percent-encoding kept
    query: str  # the raw query string
    headers: Mapping[str, str]  # names in lower case
    body: bytes = b""
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_response(status: int, value: object, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})})


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.status, error.body(), headers)


def no_content(headers: Mapping[str, str] | None = None) -> Response:
    return Response(204, b"", dict(headers or {}))


def not_found() -> Response:
    return error_response(ApiError(404, "Not Found", "Not Found"))


def read_json(request: Request) -> Any:
    """The JSON body (None when empty), or 400 ``invalid_body`` as Auth0's hapi answers it."""
    if not request.body.strip():
        return None
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(
            400, "Bad Request", "Invalid request payload JSON format", "invalid_body"
        ) from None
