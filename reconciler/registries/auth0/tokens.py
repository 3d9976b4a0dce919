"""The Management API token: a ready one (``AUTH0_TOKEN``), or the management client's, got
by client credentials with its secret or a signed client assertion (private_key_jwt), and
cached until shortly before it expires.

The audience is the tenant's canonical Management API identifier,
``https://TENANT.REGION.auth0.com/api/v2/``, wherever the token is asked for (the tenant's
domain or a custom domain): for any other Auth0 answers 403 "Service not enabled within
domain". /oauth/token is retried as the API calls are (``RetryPolicy``): a 429 after its
Retry-After, else after a backoff, within the bound on rate-limit waits; a 5xx or a network
failure after a backoff, a bounded number of times. ``scopes()`` says what the token
grants: the token answer's ``scope``, or a ready token's ``scope`` claim.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reconciler.errors import InputError, RegistryError
from reconciler.registries.auth0.assertion import ClientAssertion
from reconciler.registries.retry import RetryPolicy

__all__ = ["TokenSource", "canonical_audience", "error_message"]

_MARGIN_SECONDS = 60
_DEFAULT_LIFETIME = 86400
_NOT_ENABLED = "service not enabled within domain"
_NOT_AUTHORIZED = "is not authorized to access"


def canonical_audience(domain: str) -> str:
    """The Management API identifier of the tenant whose canonical domain is ``domain``."""
    return f"https://{domain.strip('/')}/api/v2/"


class TokenSource:
    """A Management API token: a ready one, or the management client's, cached until near
    expiry, authenticating with ``client_secret`` or ``assertion`` (one of them)."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        *,
        audience: str | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        assertion: ClientAssertion | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token and not (client_id and (client_secret or assertion)):
            raise InputError(
                "Auth0 credentials missing: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or "
                "AUTH0_CLIENT_ID and AUTH0_CLIENT_ASSERTION_KEY_FILE (private_key_jwt), for a "
                "machine-to-machine app authorized for the Management API; or AUTH0_TOKEN"
            )
        self._client = client
        self._base_url = base_url.rstrip("/")
        self.audience = audience or f"{self._base_url}/api/v2/"
        self._ready = bool(token)
        self._token = token or None
        claims = _unverified_claims(token) if token else {}
        self._client_id = client_id or _string(claims.get("azp"))
        self._client_secret = client_secret
        self._assertion = assertion
        self._granted = _scopes(claims.get("scope")) if token else None
        self._retry = retry or RetryPolicy()
        self._expires_at = float("inf") if token else 0.0
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests = 0

    @property
    def client_id(self) -> str | None:
        """The management client: the one named, or the one a ready token was issued to
        (its ``azp``)."""
        return self._client_id

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def scopes(self) -> frozenset[str] | None:
        """The scopes the token grants (getting one first if need be); None when it does
        not say (a ready token that is not a JWT with a ``scope`` claim)."""
        self.get()
        return self._granted

    def invalidate(self) -> None:
        with self._lock:
            if not self._ready:
                self._token = None

    def _fetch(self) -> None:
        url = f"{self._base_url}/oauth/token"
        attempt = 0
        limited = 0
        waited = 0.0
        while True:
            self.requests += 1
            try:
                response = self._client.post(url, json=self._request())
            except httpx.HTTPError as exc:
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise RegistryError(
                        f"cannot reach {url}: {exc} (after {attempt} attempts)"
                    ) from exc
                self._sleep(self._retry.backoff(attempt))
                continue
            status = response.status_code
            if status == 429:
                limited += 1
                delay = _retry_after(response.headers)
                delay = self._retry.backoff(limited) if delay is None else delay
                waited += delay
                if waited > self._retry.max_rate_limit_wait:
                    raise RegistryError(
                        f"POST {url}: still rate limited after waiting {waited - delay:.0f} s "
                        f"({error_message(response)}); try later"
                    )
                self._sleep(delay)
                continue
            if status >= 500:
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise RegistryError(f"{self._refusal(response)} (after {attempt} attempts)")
                self._sleep(self._retry.backoff(attempt))
                continue
            if status != 200:
                raise RegistryError(self._refusal(response))
            self._accept(response, url)
            return

    def _request(self) -> dict[str, str]:
        """The token request's body, with a fresh client assertion when there is one."""
        body = {"grant_type": "client_credentials", "audience": self.audience}
        if self._assertion is not None:
            body.update(self._assertion.fields(f"{self._base_url}/", self._wall_clock()))
        else:
            assert self._client_id is not None and self._client_secret is not None
            body.update(client_id=self._client_id, client_secret=self._client_secret)
        return body

    def _accept(self, response: httpx.Response, url: str) -> None:
        try:
            body = response.json()
        except ValueError as exc:
            raise RegistryError(
                f"POST {url}: the answer (200) is not JSON: {response.text[:120]!r}"
            ) from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise RegistryError(f"{url} answered without an access_token")
        self._token = str(body["access_token"])
        self._granted = _scopes(body.get("scope"))
        lifetime = float(body.get("expires_in", _DEFAULT_LIFETIME))
        self._expires_at = self._clock() + max(lifetime - _MARGIN_SECONDS, lifetime / 2)

    def _refusal(self, response: httpx.Response) -> str:
        """Why /oauth/token refused, and what to do about it."""
        message = error_message(response)
        said = f"Auth0 refused the management client credentials ({response.status_code}): "
        if _NOT_ENABLED in message.lower():
            return (
                f"{said}{message}. The Management API's audience is the tenant's own domain, "
                "https://TENANT.REGION.auth0.com/api/v2/, even when a custom domain is used: "
                "name that domain in the registry (auth0://TENANT.REGION.auth0.com, with "
                "AUTH0_BASE_URL for the custom domain), or set AUTH0_AUDIENCE (or "
                "--auth0-audience) to it"
            )
        if _NOT_AUTHORIZED in message.lower():
            return (
                f"{said}{message}. Authorize the app for the Auth0 Management API (Dashboard: "
                "Applications > APIs > Auth0 Management API > Machine To Machine "
                "Applications) with the scopes reconciler needs"
            )
        if response.status_code == 401:
            check = (
                "AUTH0_CLIENT_ID and the client assertion key (is its public key a credential "
                "of that app, registered with AUTH0_CLIENT_ASSERTION_ALG?)"
                if self._assertion is not None
                else "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET"
            )
            return f"{said}{message} (check {check})"
        return f"{said}{message}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        value = headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _unverified_claims(token: str) -> dict[str, Any]:
    """A ready token's claims, read without checking its signature (only Auth0 can): what
    it says of itself, to hide its client and check its scopes; {} for an opaque token."""
    import jwt  # only for a ready token: a client's run does not load it, nor cryptography

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _scopes(value: object) -> frozenset[str] | None:
    return frozenset(value.split()) if isinstance(value, str) else None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_message(response: httpx.Response) -> str:
    """What an error answer says: the Management API's ``message`` or OAuth's
    ``error_description``, else its text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error"))
    return str(body)[:200]
