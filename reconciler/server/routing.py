"""Method + path pattern -> handler, with hapi's answer (404) for anything unmatched."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from reconciler.errors import ApiError
from reconciler.server.auth import Grant
from reconciler.server.messages import Request, Response

__all__ = ["Call", "Route", "Router"]


@dataclass(frozen=True)
class Call:
    """One routed request: the request, who made it, and the path's named segments."""

    request: Request
    grant: Grant
    params: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/api/v2/clients/{client_id}"
    handler: Handler

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.template)


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"{regex}\\Z")


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = [(route, route.pattern) for route in routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The first route for ``method`` and ``path`` (earlier routes win), or 404."""
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found and route.method == method:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        raise ApiError(404, "Not Found", "Not Found")
