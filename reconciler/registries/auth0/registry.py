"""``auth0://TENANT_DOMAIN``: the Auth0 Management API v2 over an injected httpx client.

Reads every client, client grant, API and connection in one paged pass each, by offset in
overlapping windows that cannot skip one (``paging``): the first page says the total, then
the other windows are fetched at once, up to ``READ_PARALLELISM`` in flight and as many as
the rate governor lets go; each connection's enabled clients (by checkpoint, the only
paging that route has) and the credentials of the apps that have some go through the same
pool. Clients are read with only the members the plan compares (``fields``). Writes send
only what changes; 429s wait for the bucket, 5xx and network failures back off with jitter
a bounded number of times; a create whose outcome is unknown is looked up by its stamp
before it is ever sent again.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, wait
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.core.stamp import APP_KEY, OWNER_KEY
from reconciler.errors import ApiError, InputError, RegistryError
from reconciler.registries.auth0.assertion import ClientAssertion
from reconciler.registries.auth0.lease import LEASE_IDENTIFIER, TenantLease
from reconciler.registries.auth0.paging import MAX_PAGE, Page, Window, read_every_item
from reconciler.registries.auth0.pool import ReadPool
from reconciler.registries.auth0.ratelimit import RateGovernor
from reconciler.registries.auth0.scopes import missing_scopes, route_scope
from reconciler.registries.auth0.tokens import TokenSource, canonical_audience, error_message
from reconciler.registries.base import CimdVerdict, Needs, Operation
from reconciler.registries.clients import READ_MEMBERS, ClientsRegistry, matching_credential
from reconciler.registries.retry import RetryPolicy
from reconciler.registries.trust import default_trust
from reconciler.tenant.limits import ENTITIES, PLANS

__all__ = [
    "Auth0Registry",
    "CreateInDoubtError",
    "ManagementApi",
    "READ_PARALLELISM",
    "RetryPolicy",
    "TokenSource",
    "open_auth0",
]

#: A checkpoint page's ``take``, and the largest ``per_page`` of an offset window.
PAGE_SIZE = MAX_PAGE
#: Writes in flight at once; the rate governor still paces them to the tenant's limits.
WRITE_PARALLELISM = 4
#: Reads in flight at once at most (pages, enabled clients, credentials); the rate governor
#: lets fewer go while the tenant's bucket holds fewer tokens.
READ_PARALLELISM = 16
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
_MIN_POLL_SECONDS = 0.1
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Auth0's errorCode for a create past the plan's entity limit (``tenant/limits.py``).
TOO_MANY_ENTITIES = "too_many_entities"

_Answer = TypeVar("_Answer")


class ManagementApi:
    """The clients, client grants, resource servers and connections routes of the
    Management API, as the ClientsApi protocol."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        tokens: TokenSource,
        *,
        governor: RateGovernor | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.governor = governor or RateGovernor()
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.requests = 0
        self.rate_limited = 0
        self._counting = threading.Lock()
        self._pool: ReadPool | None = None
        self._pool_lock = threading.Lock()
        self._closed = False

    def all_clients(self, fields: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Every non-global client, in overlapping pages that cannot skip one (``paging``);
        with only the members ``fields`` names (and ``tenant``, which Auth0 always adds)."""
        projection = (
            {"fields": ",".join(sorted(fields)), "include_fields": "true"} if fields else {}
        )
        return self._offset_list(
            "/api/v2/clients",
            "clients",
            "client_id",
            "the tenant's clients",
            is_global="false",
            **projection,
        )

    def credentials_of(self, client_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Each client's credentials, in order, fetched through the read pool."""
        return self.gather([partial(self.list_credentials, client) for client in client_ids])

    def gather(self, calls: Sequence[Callable[[], _Answer]]) -> list[_Answer]:
        """What each call answers, in order, the calls run on the read pool (at most
        ``READ_PARALLELISM`` at once, each request paced by the governor). The first
        failure cancels the calls not yet started and is raised once those running have
        ended; an interrupt is raised at once."""
        if len(calls) <= 1:
            return [call() for call in calls]
        pool = self._read_pool()
        futures: list[Future[_Answer]] = [pool.submit(call) for call in calls]
        try:
            return [future.result() for future in futures]
        except Exception:
            for future in futures:
                future.cancel()
            wait(futures)
            raise
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def _read_pool(self) -> ReadPool:
        with self._pool_lock:
            if self._closed:  # a read ahead the run stopped waiting for
                raise _Stopped()
            if self._pool is None:
                self._pool = ReadPool(READ_PARALLELISM, name="auth0-read")
            return self._pool

    def create_client(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /clients, never sent twice while its first sending may have worked.

        A 5xx answer means the request completed with an error, but perhaps after the
        write (an answer lost between the database and the edge): the app is looked up
        by its stamp; found, it is the answer; absent, it was not created and the create
        is sent again, a bounded number of times. No answer at all (a timeout, a dropped
        connection) leaves it in doubt: it is looked up, polling for a bounded time, and
        if it never appears the change fails as in doubt, for the next apply to resolve.
        """
        attempt = 0
        while True:
            try:
                return dict(self._call("POST", "/api/v2/clients", json=body, resend=False))
            except _FailedAnswer as failed:
                found = self._find_stamped(body)
                if found is not None:
                    return found
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise RegistryError(
                        f"creating {body.get('name')!r} failed {attempt} times ({failed}) and it "
                        "is not in the tenant: nothing was created, the next apply creates it"
                    ) from failed
                self._sleep(self._retry.backoff(attempt))
            except _NoAnswer as unanswered:
                found = self._await(lambda: self._find_stamped(body))
                if found is not None:
                    return found
                raise CreateInDoubtError(
                    f"creating {body.get('name')!r} (key {_stamp_key(body)!r}): {unanswered}; "
                    f"it is still not in the tenant after {self._retry.in_doubt_wait:g} s, so "
                    "the outcome is unknown. It was not sent again: the next apply adopts it "
                    "if it has appeared, else creates it"
                ) from unanswered

    def patch_client(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/v2/clients/{client_id}", json=body))

    def delete_client(self, client_id: str) -> None:
        self._call("DELETE", f"/api/v2/clients/{client_id}")

    def list_credentials(self, client_id: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/api/v2/clients/{client_id}/credentials"))

    def create_credential(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /clients/{id}/credentials, never sent twice while its first sending may
        have worked: a client holds two credentials at most, so a duplicate would block
        the next rotation. After a 5xx or no answer, the client's credentials are read
        and the one the body made (``matching_credential``) is the answer; absent, the
        POST made none and is sent again, a bounded number of times."""
        path = f"/api/v2/clients/{client_id}/credentials"

        def find() -> dict[str, Any] | None:
            return matching_credential(self.list_credentials(client_id), body)

        attempt = 0
        failure: RegistryError
        while True:
            try:
                return dict(self._call("POST", path, json=body, resend=False))
            except _FailedAnswer as failed:
                found, failure = find(), failed
            except _NoAnswer as unanswered:
                found, failure = self._await(find), unanswered
            except ApiError as refused:
                # Sent again, refused as a duplicate (409): the earlier sending made it.
                found = find() if attempt and refused.status == 409 else None
                if found is None:
                    raise
            if found is not None:
                return found
            attempt += 1
            if attempt >= self._retry.attempts:
                raise RegistryError(
                    f"adding credential {body.get('name')!r} to {client_id} failed "
                    f"{attempt} times ({failure}) and the client does not hold it: the "
                    "next apply adds it"
                ) from failure
            self._sleep(self._retry.backoff(attempt))

    def patch_credential(
        self, client_id: str, credential_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"/api/v2/clients/{client_id}/credentials/{credential_id}"
        return dict(self._call("PATCH", path, json=body))

    def delete_credential(self, client_id: str, credential_id: str) -> None:
        self._call("DELETE", f"/api/v2/clients/{client_id}/credentials/{credential_id}")

    def cimd_register(self, url: str, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Auth0 fetches the document itself; ``document`` is what we validated and locked
        (``ClientsRegistry.register_cimd`` checks the result against it). It answers 201
        when it created the client, 200 when it refreshed it, with
        ``{client_id, client_secret, signing_keys}`` (a live tenant's answer; the reference
        page shows ``{client_id, mapped_fields, validation}``): the client is read back."""
        path = "/api/v2/clients/cimd/register"
        response = self._send("POST", path, json={"external_client_id": url})
        registered = _answer(response, f"POST {path}")
        client_id = registered.get("client_id") if isinstance(registered, dict) else None
        if not isinstance(client_id, str) or not client_id:
            raise RegistryError(f"POST {path} for {url} answered no client_id")
        client = self._call("GET", f"/api/v2/clients/{client_id}")
        return dict(client), response.status_code == 201

    def cimd_preview(self, url: str) -> dict[str, Any]:
        return dict(
            self._call("POST", "/api/v2/clients/cimd/preview", json={"external_client_id": url})
        )

    def tenant_settings(self) -> dict[str, Any]:
        """GET /tenants/settings (read:tenant_settings)."""
        return dict(self._call("GET", "/api/v2/tenants/settings"))

    def stop(self) -> None:
        """Send nothing more: a read under way on another thread fails at its next request
        (the requests in flight are answered first), and its thread may then close."""
        with self._pool_lock:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def close(self) -> None:
        self.stop()
        self._client.close()

    def get_client(self, client_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v2/clients/{client_id}"))

    def rotate_secret(self, client_id: str) -> dict[str, Any]:
        """POST /clients/{id}/rotate-secret (update:client_keys): the client, new secret."""
        return dict(self._call("POST", f"/api/v2/clients/{client_id}/rotate-secret"))

    def create_resource_server(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/v2/resource-servers", json=body))

    def resource_server_by_identifier(self, identifier: str) -> dict[str, Any] | None:
        body = self._call(
            "GET", "/api/v2/resource-servers", params={"identifiers": identifier, "per_page": 10}
        )
        listed = body.get("resource_servers", []) if isinstance(body, dict) else body
        return next((dict(r) for r in listed if r.get("identifier") == identifier), None)

    def patch_resource_server(self, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/v2/resource-servers/{server_id}", json=body))

    def delete_resource_server(self, server_id: str) -> None:
        self._call("DELETE", f"/api/v2/resource-servers/{server_id}")

    def all_client_grants(self) -> list[dict[str, Any]]:
        """Every client grant, by offset as the clients are read. The route pages by
        checkpoint too (``from``/``take``), but a checkpoint page can only be asked for once
        the one before has answered; its reference page gives ``page``, ``per_page`` (1 to
        100) and ``include_totals`` as well (docs ``api/management/v2/client-grants/
        get-client-grants``; auth0-deploy-cli asks by checkpoint, one page after another)."""
        return self._offset_list("/api/v2/client-grants", "client_grants", "id", "the grants")

    def create_client_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /client-grants. Safe to send again after a lost answer: a second grant
        for the same client, audience and subject type is refused (409)."""
        return dict(self._call("POST", "/api/v2/client-grants", json=body))

    def patch_client_grant(self, grant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/v2/client-grants/{grant_id}", json=body))

    def delete_client_grant(self, grant_id: str) -> None:
        self._call("DELETE", f"/api/v2/client-grants/{grant_id}")

    def all_resource_servers(self) -> list[dict[str, Any]]:
        """Every API, as the clients are read (resource servers page only by offset)."""
        return self._offset_list(
            "/api/v2/resource-servers", "resource_servers", "id", "the tenant's APIs"
        )

    def all_connections(self) -> list[dict[str, Any]]:
        """Every connection by offset, then each one's enabled clients by checkpoint (the
        only paging that route has), the connections side by side: W(connections) + the sum
        of ceil(enabled / 100), at least 1, requests."""
        connections = self._offset_list(
            "/api/v2/connections", "connections", "id", "the tenant's connections"
        )
        enabled = self.gather(
            [
                partial(self._checkpoint_pages, f"/api/v2/connections/{c['id']}/clients", "clients")
                for c in connections
            ]
        )
        for connection, clients in zip(connections, enabled, strict=True):
            connection["enabled_clients"] = [str(client["client_id"]) for client in clients]
        return connections

    def patch_connection_clients(self, connection_id: str, changes: list[dict[str, Any]]) -> None:
        self._call("PATCH", f"/api/v2/connections/{connection_id}/clients", json=changes)

    def _offset_list(
        self, path: str, member: str, key: str, what: str, **filters: str
    ) -> list[dict[str, Any]]:
        """Every item of an offset-paged list (``paging``), the windows after the first
        fetched through the read pool."""

        def fetch(page: int, size: int) -> Page:
            return self._offset_page(path, member, page, size, **filters)

        def fetch_all(windows: Sequence[Window]) -> list[Page]:
            return self.gather([partial(fetch, *window) for window in windows])

        return read_every_item(fetch, key, what, fetch_all=fetch_all)

    def _offset_page(self, path: str, member: str, page: int, size: int, **filters: str) -> Page:
        """One offset page of a list, and the total it announces."""
        body = self._call(
            "GET",
            path,
            params={"page": page, "per_page": size, "include_totals": "true", **filters},
        )
        if isinstance(body, list):
            return [dict(item) for item in body], None
        if not isinstance(body, dict):
            raise RegistryError(f"GET {path} answered no {{{member}, total}} page")
        return [dict(item) for item in body.get(member) or []], int(body.get("total", 0))

    def _checkpoint_pages(self, path: str, member: str) -> list[dict[str, Any]]:
        """Every item of a checkpoint-paged list: ``take`` 100, then ``from`` each answer's
        ``next`` until an answer has none."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"take": PAGE_SIZE}
        while True:
            body = self._call("GET", path, params=params)
            if not isinstance(body, dict):
                raise RegistryError(f"GET {path} answered no {{{member}, next}} page")
            items += [dict(item) for item in body.get(member) or []]
            checkpoint = body.get("next")
            if not checkpoint:
                return items
            params = {"take": PAGE_SIZE, "from": checkpoint}

    def _find_stamped(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """The client stamped with ``body``'s owner and key: one full read, as the API has
        no search on client_metadata (``q`` on /clients takes only client-grant terms)."""
        metadata = body.get("client_metadata") or {}
        owner, key = metadata.get(OWNER_KEY), metadata.get(APP_KEY)
        if not owner or not key:
            return None
        for client in self.all_clients():
            found = client.get("client_metadata") or {}
            if found.get(OWNER_KEY) == owner and found.get(APP_KEY) == key:
                return client
        return None

    def _await(self, find: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """What ``find`` finds of a write that was never answered, polled with backoff while
        the request may still be running (for ``in_doubt_wait`` seconds between reads)."""
        waited = 0.0
        attempt = 0
        while True:
            found = find()
            remaining = self._retry.in_doubt_wait - waited
            if found is not None or remaining <= 0:
                return found
            attempt += 1
            pause = min(max(self._retry.backoff(attempt), _MIN_POLL_SECONDS), remaining)
            self._sleep(pause)
            waited += pause

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        resend: bool = True,
    ) -> Any:
        """One logical request's JSON answer (None when empty): see ``_send``."""
        response = self._send(method, path, params=params, json=json, resend=resend)
        return _answer(response, f"{method} {path}")

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        resend: bool = True,
    ) -> httpx.Response:
        """One logical request: paced, retried where that is safe, errors translated."""
        waited_for_limit = 0.0
        attempt = 0
        refreshed_token = False
        while True:
            if self._closed:
                raise _Stopped()
            token = self.tokens.get()  # before the governor: /oauth/token is not paced by it
            self.governor.acquire()
            try:
                response = self._client.request(
                    method,
                    f"{self._base_url}{path}",
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                self.governor.release(None, {})
                self._count(limited=False)
                sent = not isinstance(exc, _UNSENT)
                if sent and not resend:
                    raise _NoAnswer(f"no answer came ({type(exc).__name__}: {exc})") from exc
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise RegistryError(
                        f"{method} {path}: {exc} (after {attempt} attempts)"
                    ) from exc
                self._sleep(self._retry.backoff(attempt))
                continue
            self.governor.release(response.status_code, response.headers)
            status = response.status_code
            self._count(limited=status == 429)
            if status == 429:
                delay = self.governor.retry_after(response.headers)
                waited_for_limit += delay
                if waited_for_limit > self._retry.max_rate_limit_wait:
                    raise RegistryError(
                        f"{method} {path}: still rate limited after waiting "
                        f"{waited_for_limit:.0f} s; lower --max-rps or try later"
                    )
                continue  # the governor holds every sender until the bucket refills
            if status >= 500:
                if not resend:
                    raise _FailedAnswer(f"{status} {error_message(response)}")
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise _api_error(response, method, path)
                self._sleep(self._retry.backoff(attempt))
                continue
            if status == 401 and not refreshed_token:
                refreshed_token = True
                self.tokens.invalidate()
                continue
            if status >= 400:
                raise _api_error(
                    response, method, path, held=self._held_if_at_limit(response, method, path)
                )
            return response

    def _count(self, *, limited: bool) -> None:
        with self._counting:
            self.requests += 1
            self.rate_limited += int(limited)

    def _held_if_at_limit(self, response: httpx.Response, method: str, path: str) -> int | None:
        """How many applications the tenant holds, when a create was refused for its
        plan's limit on them (one more request); None otherwise or if it cannot be read."""
        at_limit = _error_code(response) == TOO_MANY_ENTITIES
        if not at_limit or _limited_entity(method, path) != "applications":
            return None
        try:
            _, total = self._offset_page("/api/v2/clients", "clients", 0, 1, is_global="false")
        except RegistryError:
            return None
        return total


class Auth0Registry(ClientsRegistry):
    """The Registry over the Management API: writes four at a time, and asks Auth0's
    own verdict on a CIMD document before registering it."""

    api: ManagementApi
    write_parallelism = WRITE_PARALLELISM
    reads_in_background = True

    def _read_clients(self) -> list[dict[str, Any]]:
        return self.api.all_clients(READ_MEMBERS)

    def stop_reading(self) -> None:
        self.api.stop()

    def _read_credentials(self, client_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        return self.api.credentials_of(client_ids)

    def preview_cimd(self, url: str) -> CimdVerdict:
        """POST cimd/preview: ``errors`` when Auth0 could not fetch the document, else its
        ``validation``."""
        answer = self.api.cimd_preview(url)
        validation = answer.get("validation") or {}
        return CimdVerdict(
            errors=tuple(answer.get("errors") or ()),
            violations=tuple(validation.get("violations") or ()),
            warnings=tuple(validation.get("warnings") or ()),
        )

    def credentials_readable(self) -> bool:
        """Not without read:client_credentials (a token that does not say its scopes is
        taken at its word): Auth0 shows a token with read:client_keys which clients hold
        credentials, and refuses it their list."""
        granted = self.api.tokens.scopes()
        return granted is None or not missing_scopes(granted, {Operation.READ_KEYS: []})

    def check_permissions(self, needs: Needs) -> None:
        """Every scope the token lacks for ``needs``, said at once before any of it is asked
        (``scopes.py``); a token that does not say its scopes is not checked here."""
        granted = self.api.tokens.scopes()
        if granted is None:
            return
        if self._lock is None:  # --no-lock: there is no lease to take
            needs = {op: keys for op, keys in needs.items() if op is not Operation.LOCK}
        lacking = missing_scopes(granted, needs)
        if lacking:
            raise RegistryError(
                "the management token lacks scopes this run needs:\n  "
                + "\n  ".join(lacking)
                + "\nGrant them to the management app (Dashboard: Applications > APIs > Auth0 "
                "Management API > Machine To Machine Applications), or give AUTH0_TOKEN a "
                "token that has them"
            )


class CreateInDoubtError(RegistryError):
    """A create that was sent and never answered, and has not appeared in the tenant."""


class _Stopped(RegistryError):
    def __init__(self) -> None:
        super().__init__("the registry was closed while it was read")


class _FailedAnswer(RegistryError):
    """A write answered with a 5xx: it completed, with an error, perhaps after committing."""


class _NoAnswer(RegistryError):
    """A write that was sent and never answered: it may still be running server-side."""


def _stamp_key(body: Mapping[str, Any]) -> object:
    return (body.get("client_metadata") or {}).get(APP_KEY)


def _api_error(
    response: httpx.Response, method: str, path: str, *, held: int | None = None
) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase or "error")
    entity = _limited_entity(method, path)
    if body.get("errorCode") == TOO_MANY_ENTITIES and entity is not None:
        message += f" ({_entity_limit_note(entity, held)})"
    elif response.status_code == 403 and "scope" in message.lower():
        needed = route_scope(method, path)
        message += f" (grant the management client the {needed} scope)" if needed else ""
    elif response.status_code == 403 and path.endswith("/credentials"):
        if "enterprise" not in message.lower():
            message += " (Auth0 keeps private_key_jwt and mTLS credentials for Enterprise plans)"
    elif response.status_code == 401:
        message += " (check AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET or AUTH0_TOKEN)"
    return ApiError(
        response.status_code,
        str(body.get("error") or response.reason_phrase),
        f"{method} {path}: {message}",
        body.get("errorCode"),
    )


def _error_code(response: httpx.Response) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("errorCode") if isinstance(body, dict) else None


def _limited_entity(method: str, path: str) -> str | None:
    """The entity (a key of ``limits.ENTITIES``) a create on this route adds."""
    if method != "POST":
        return None
    if path.endswith("/credentials"):
        return "credentials"
    if path in ("/api/v2/clients", "/api/v2/clients/cimd/register"):
        return "applications"
    for prefix, entity in (
        ("/api/v2/client-grants", "client_grants"),
        ("/api/v2/resource-servers", "resource_servers"),
        ("/api/v2/connections", "connections"),
    ):
        if path == prefix:
            return entity
    return None


def _entity_limit_note(entity: str, held: int | None) -> str:
    """What a refusal for the plan's limit on ``entity`` means, naming the plan when the
    tenant holds exactly one plan's most (``held``)."""
    name = ENTITIES[entity]
    by_most: dict[int, list[str]] = {}
    for plan, limits in PLANS.items():
        most = limits.limit(entity)
        if most is not None:
            by_most.setdefault(most, []).append(plan.capitalize() if plan != "free" else plan)
    fix = f"delete {name} it no longer needs or move the tenant to a larger plan"
    plans = ", ".join(f"{' and '.join(names)} {most:,}" for most, names in by_most.items())
    if held is not None and held in by_most:
        named = by_most[held]
        plural = len(named) > 1
        return (
            f"the tenant holds {held:,} {name}, the most Auth0's {' and '.join(named)} "
            f"plan{'s' * plural} allow{'s' * (not plural)}: {fix}; Auth0's limits: {plans}"
        )
    return f"the tenant's plan allows no more {name}: {fix}; Auth0's limits: {plans}"


def _answer(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful answer, None when it has none."""
    if response.status_code == 204 or not response.content:
        return None
    return _json(response, what)


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise RegistryError(
            f"{what}: the answer ({response.status_code}) is not JSON: {response.text[:120]!r}"
        ) from exc


def open_auth0(
    uri: str,
    *,
    base_url: str | None = None,
    audience: str | None = None,
    max_rps: float | None = None,
    environ: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    verify: Any = True,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    lock: bool = True,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    notify: Callable[[str], None] | None = None,
    retry: RetryPolicy | None = None,
) -> Auth0Registry:
    """``auth0://TENANT_DOMAIN``; credentials from the environment: AUTH0_CLIENT_ID with
    AUTH0_CLIENT_SECRET, or with a private key (AUTH0_CLIENT_ASSERTION_KEY_FILE, or the PEM
    in AUTH0_CLIENT_ASSERTION_KEY; AUTH0_CLIENT_ASSERTION_ALG, default RS256) for
    private_key_jwt; or a ready AUTH0_TOKEN.

    Requests go to ``base_url`` (AUTH0_BASE_URL; default ``https://TENANT_DOMAIN``, which
    may be a custom domain); the token's ``audience`` (AUTH0_AUDIENCE) defaults to the
    Management API of TENANT_DOMAIN, ``https://TENANT_DOMAIN/api/v2/``. ``timeout`` is the
    read timeout of every request (a create not answered within it is looked up for as
    long again before it is called in doubt); ``lock`` takes the apply lease in the tenant
    (``lease.py``), waiting up to ``lock_timeout`` for another apply.
    """
    env = os.environ if environ is None else environ
    domain = uri.removeprefix("auth0://").strip("/")
    if not domain:
        raise InputError(f"registry {uri!r} names no tenant domain (auth0://TENANT.auth0.com)")
    base = (base_url or env.get("AUTH0_BASE_URL") or f"https://{domain}").rstrip("/")
    http = client or httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        verify=default_trust() if verify is True else verify,
    )
    policy = retry or RetryPolicy(in_doubt_wait=timeout)
    client_id = env.get("AUTH0_CLIENT_ID") or None
    tokens = TokenSource(
        http,
        base,
        audience=audience or env.get("AUTH0_AUDIENCE") or canonical_audience(domain),
        token=env.get("AUTH0_TOKEN") or None,
        client_id=client_id,
        client_secret=env.get("AUTH0_CLIENT_SECRET") or None,
        assertion=_client_assertion(env, client_id),
        retry=policy,
    )
    api = ManagementApi(http, base, tokens, governor=RateGovernor(max_rps=max_rps), retry=policy)
    hidden = [tokens.client_id] if tokens.client_id else []
    if not lock:
        return Auth0Registry(
            api, uri, hidden_client_ids=hidden, hidden_api_identifiers=[LEASE_IDENTIFIER]
        )
    lease = TenantLease(api, tenant=domain, wait_seconds=lock_timeout, notify=notify or _to_stderr)
    return Auth0Registry(
        api,
        uri,
        lock=lease.held,
        before_write=lease.check,
        hidden_client_ids=hidden,
        hidden_api_identifiers=[LEASE_IDENTIFIER],
    )


def _client_assertion(env: Mapping[str, str], client_id: str | None) -> ClientAssertion | None:
    """The management client's private_key_jwt signer, when a private key is given."""
    path = env.get("AUTH0_CLIENT_ASSERTION_KEY_FILE") or None
    pem = env.get("AUTH0_CLIENT_ASSERTION_KEY") or None
    if path is None and pem is None:
        return None
    if path is not None and pem is not None:
        raise InputError(
            "set AUTH0_CLIENT_ASSERTION_KEY_FILE or AUTH0_CLIENT_ASSERTION_KEY, not both"
        )
    if env.get("AUTH0_CLIENT_SECRET"):
        raise InputError(
            "set AUTH0_CLIENT_SECRET or a client assertion key (private_key_jwt), not both: "
            "the management client authenticates one way"
        )
    if client_id is None:
        raise InputError("a client assertion key needs AUTH0_CLIENT_ID, the client it signs for")
    source = f"AUTH0_CLIENT_ASSERTION_KEY_FILE {path}" if path else "AUTH0_CLIENT_ASSERTION_KEY"
    if path is not None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: {exc.strerror or exc}") from None
    else:
        data = (pem or "").encode()
    alg = env.get("AUTH0_CLIENT_ASSERTION_ALG") or "RS256"
    return ClientAssertion.from_pem(client_id, data, alg=alg, source=source)


def _to_stderr(message: str) -> None:
    print(f"reconciler: {message}", file=sys.stderr, flush=True)
