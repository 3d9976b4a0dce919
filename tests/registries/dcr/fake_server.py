"""A small in-memory RFC 7591/7592 server behind httpx.MockTransport, for edge cases the
real peer cannot be made to show (405 on delete, 5xx, lost answers, rotation on read)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx

Fault = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    def __init__(self, issuer: str = "https://id.example.com") -> None:
        self.issuer = issuer
        self.metadata: dict[str, Any] = {
            "issuer": issuer,
            "registration_endpoint": f"{issuer}/reg",
            "token_endpoint": f"{issuer}/token",
            "response_types_supported": ["code", "token"],
        }
        self.requests: list[httpx.Request] = []
        self.clients: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.rotate_on_read = False
        #: Client metadata members it does not hold: left out of what it keeps and answers.
        self.unheld: set[str] = set()
        self.faults: list[tuple[str, str, Fault]] = []
        self._ids = itertools.count(1)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def fail(self, method: str, path_prefix: str, fault: Fault) -> None:
        """Answer the next matching request with ``fault`` instead."""
        self.faults.append((method, path_prefix, fault))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for index, (method, prefix, fault) in enumerate(self.faults):
            if request.method == method and request.url.path.startswith(prefix):
                del self.faults[index]
                return fault(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.metadata)
        if path == "/reg" and request.method == "POST":
            return self._register(json.loads(request.content))
        if path.startswith("/reg/"):
            return self._manage(request, path.removeprefix("/reg/"))
        return httpx.Response(404)

    def _register(self, body: dict[str, Any]) -> httpx.Response:
        client_id = f"client-{next(self._ids)}"
        self.clients[client_id] = {
            "subject_type": "public",
            **self._held(body),
            "client_id": client_id,
        }
        self.tokens[client_id] = f"token-{client_id}-0"
        answer = {
            **self.clients[client_id],
            "client_secret": f"secret-{client_id}",
            "client_secret_expires_at": 0,
            "client_id_issued_at": 1,
        }
        return httpx.Response(201, json=self._with_management(client_id, answer))

    def _manage(self, request: httpx.Request, client_id: str) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.tokens.get(client_id)}":
            return httpx.Response(401, json={"error": "invalid_token"})
        if request.method == "DELETE":
            del self.clients[client_id], self.tokens[client_id]
            return httpx.Response(204)
        if request.method == "PUT":
            self.clients[client_id] = self._held(json.loads(request.content))
            self._rotate(client_id)
        elif self.rotate_on_read:
            self._rotate(client_id)
        return httpx.Response(200, json=self._with_management(client_id, self.clients[client_id]))

    def _held(self, body: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in body.items() if name not in self.unheld}

    def _rotate(self, client_id: str) -> None:
        generation = int(self.tokens[client_id].rsplit("-", 1)[1]) + 1
        self.tokens[client_id] = f"token-{client_id}-{generation}"

    def _with_management(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            **body,
            "registration_client_uri": f"{self.issuer}/reg/{client_id}",
            "registration_access_token": self.tokens[client_id],
        }
