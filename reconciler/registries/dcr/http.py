"""RFC 7591 registration and RFC 7592 management over an injected httpx client.

Discovery reads ``/.well-known/openid-configuration`` (else RFC 8414's
``oauth-authorization-server``) for the ``registration_endpoint``. Reads and deletes are
retried on network failures and 502/503/504; a registration or update is retried only
when it never left this machine, since resending one that the server may have applied
would register a second client or lose a rotated token. Every failure leaves here as a
``reconciler.errors`` error naming what was being done; response bodies that may carry
secrets never reach a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.core.hosts import is_loopback_host
from reconciler.errors import ApiError, InputError, RegistryError
from reconciler.registries.dcr.metadata import Profile
from reconciler.registries.retry import RetryPolicy

__all__ = [
    "Discovery",
    "NotSent",
    "RegistrationApi",
    "RetryPolicy",
    "check_transport_security",
]

_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT_STATUSES = frozenset({502, 503, 504})


class NotSent(RegistryError):
    """The request never reached the server: nothing was registered or changed."""


DCR_RETRY = RetryPolicy(attempts=3, base_delay=0.25)


@dataclass(frozen=True)
class Discovery:
    issuer: str
    registration_endpoint: str
    token_endpoint: str | None
    profile: Profile
    cimd_supported: bool


def check_transport_security(url: str, purpose: str) -> None:
    """https everywhere; plain http only to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise InputError(f"{purpose} {url!r} must be https (plain http only for loopback hosts)")


class RegistrationApi:
    def __init__(
        self,
        http: httpx.Client,
        issuer: str,
        *,
        initial_access_token: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_transport_security(issuer, "issuer")
        self.http = http
        self.issuer = issuer.rstrip("/")
        self._initial_access_token = initial_access_token
        self._retry = retry or DCR_RETRY
        self._sleep = sleep
        self._discovery: Discovery | None = None
        self._discovering = threading.Lock()

    def discover(self) -> Discovery:
        with self._discovering:
            if self._discovery is None:
                self._discovery = self._discover()
            return self._discovery

    def register(self, body: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        """POST to the registration endpoint; 201 with the new client's metadata."""
        endpoint = self.discover().registration_endpoint
        headers = {}
        if self._initial_access_token:
            headers["Authorization"] = f"Bearer {self._initial_access_token}"
        response = self._send("POST", endpoint, what, json=dict(body), headers=headers)
        if response.status_code == 401:
            hint = (
                "it refused DCR_INITIAL_ACCESS_TOKEN"
                if self._initial_access_token
                else "it requires an initial access token: set DCR_INITIAL_ACCESS_TOKEN"
            )
            raise _error(response, f"{what}: {self.issuer} refused the registration ({hint})")
        if response.status_code not in (200, 201):
            raise _error(response, f"{what}: {self.issuer} refused the registration")
        return _client(response, what)

    def read(self, uri: str, token: str, *, what: str) -> dict[str, Any] | None:
        """GET the client; None when the server answers 401 (gone, or the token revoked)."""
        response = self._send("GET", uri, what, token=token, idempotent=True)
        if response.status_code == 401:
            return None
        if response.status_code != 200:
            raise _error(response, f"{what}: {self.issuer} refused the read")
        return _client(response, what)

    def replace(
        self, uri: str, token: str, body: Mapping[str, Any], *, what: str
    ) -> dict[str, Any] | None:
        """PUT the full metadata; None on 401. The answer may carry a new token."""
        response = self._send("PUT", uri, what, token=token, json=dict(body))
        if response.status_code == 401:
            return None
        if response.status_code != 200:
            raise _error(response, f"{what}: {self.issuer} refused the update")
        return _client(response, what)

    def remove(self, uri: str, token: str, *, what: str) -> None:
        """DELETE the client; 401 or 404 mean it is already gone (RFC 7592 2.3)."""
        response = self._send("DELETE", uri, what, token=token, idempotent=True)
        if response.status_code in (200, 204, 401, 404):
            return
        if response.status_code == 405:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{what}: {self.issuer} does not allow clients to be deleted (405 on DELETE); "
                "delete the client in the server's console, or keep the app (protect: true)",
            )
        raise _error(response, f"{what}: {self.issuer} refused the delete")

    def _discover(self) -> Discovery:
        tried = []
        for url in _discovery_urls(self.issuer):
            response = self._send(
                "GET", url, "discovering the registration endpoint", idempotent=True
            )
            if response.status_code != 200:
                tried.append(f"{url} -> {response.status_code}")
                continue
            metadata = _json_object(response, f"the server metadata at {url}")
            return self._discovery_from(metadata, url)
        raise RegistryError(
            f"{self.issuer} publishes no authorization server metadata ({'; '.join(tried)})"
        )

    def _discovery_from(self, metadata: Mapping[str, Any], url: str) -> Discovery:
        announced = str(metadata.get("issuer") or "").rstrip("/")
        if announced != self.issuer:
            raise RegistryError(
                f"{url} names the issuer {announced!r}, not {self.issuer!r}: check the registry URI"
            )
        endpoint = metadata.get("registration_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise RegistryError(
                f"{self.issuer} does not offer dynamic client registration "
                "(no registration_endpoint in its metadata)"
            )
        _check_server_url(endpoint, f"the metadata at {url}")
        token_endpoint = metadata.get("token_endpoint")
        return Discovery(
            issuer=self.issuer,
            registration_endpoint=endpoint,
            token_endpoint=token_endpoint if isinstance(token_endpoint, str) else None,
            profile=Profile(tuple(metadata.get("response_types_supported") or ())),
            cimd_supported=metadata.get("client_id_metadata_document_supported") is True,
        )

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        token: str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> httpx.Response:
        _check_server_url(url, what)
        sent_headers = dict(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, url, json=json, headers=sent_headers)
            except httpx.HTTPError as exc:
                if (idempotent or isinstance(exc, _UNSENT)) and attempt < self._retry.attempts:
                    self._sleep(self._retry.backoff(attempt))
                    continue
                failure = f"{what}: {method} {url} failed: {type(exc).__name__}: {exc}"
                if isinstance(exc, _UNSENT):
                    raise NotSent(failure) from exc
                outcome = "" if idempotent else "; whether the server applied it is unknown"
                raise RegistryError(failure + outcome) from exc
            if idempotent and response.status_code in _TRANSIENT_STATUSES:
                if attempt < self._retry.attempts:
                    self._sleep(self._retry.backoff(attempt))
                    continue
            return response


def _check_server_url(url: str, what: str) -> None:
    """A URL the server handed out: a bearer token may be sent to it."""
    try:
        check_transport_security(url, "URL")
    except InputError as exc:
        raise RegistryError(f"{what}: {exc}") from exc


def _discovery_urls(issuer: str) -> list[str]:
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return [
        f"{issuer}/.well-known/openid-configuration",
        f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}",
    ]


def _client(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _json_object(response, f"{what}: the answer")
    if not isinstance(body.get("client_id"), str):
        raise RegistryError(f"{what}: the answer has no client_id")
    return body


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise RegistryError(f"{what} is not JSON ({response.status_code})") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"{what} is not a JSON object")
    return body


def _error(response: httpx.Response, message: str) -> ApiError:
    """An RFC 7591 3.2.2 / RFC 6750 error answer (``error``, ``error_description``)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = str(body.get("error") or response.reason_phrase or "error")
    description = body.get("error_description")
    return ApiError(
        response.status_code, error, f"{message}: {description}" if description else message
    )
