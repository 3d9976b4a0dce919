"""The embedded registry's engine: one Auth0 tenant's clients, kept in one SQLite file.

Its APIs (``resource_servers``), client grants (``client_grants``) and connections
(``connections``) live in the same file, each in its own module.

``Tenant`` answers the Auth0 Management API v2 client routes as methods that take and
return Auth0's JSON shapes (plain dicts) and raise Auth0's errors (``ApiError``), so the
in-process backend and the HTTP server (``reconciler serve``) share one implementation.
What it accepts is decided in ``rules``, what it fills in itself in
``records``; this module assembles, and ``store`` stores.

Every write is one SQLite transaction, so a client and its credentials are never
half-written, and several processes may share the file. ``exclusive()`` is the separate,
longer lock one ``apply`` holds across its many writes (``lock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.core.model import CREDENTIAL_TYPE_FOR_METHOD
from reconciler.core.third_party import THIRD_PARTY_JWT_ALG
from reconciler.errors import ApiError
from reconciler.tenant.connections import Connections
from reconciler.tenant.grants import ClientGrants
from reconciler.tenant.limits import NO_LIMITS, EntityLimits
from reconciler.tenant.lock import ApplyLock
from reconciler.tenant.records import (
    global_client,
    make_signing_key,
    new_cimd_client,
    new_client,
    new_credential_id,
    new_secret,
    now_timestamp,
    with_legacy_logout,
)
from reconciler.tenant.resource_servers import ResourceServers
from reconciler.tenant.rules import (
    CIMD_SUPPORTED,
    DEFAULT_TENANT_SETTINGS,
    JsonObject,
    check_cimd_patch,
    check_client_patch,
    check_client_rules,
    check_credential_patch,
    check_new_client,
    check_new_credential,
    check_room,
    check_tenant_settings,
    check_third_party_body,
    cimd_mapped_fields,
    invalid_body,
    is_strict_third_party,
    merge_patch,
    parse_client_query,
    parse_projection,
)
from reconciler.tenant.store import MEMORY, TenantRows, TenantStore

__all__ = ["MEMORY", "Tenant"]

#: The largest page Auth0's lists answer.
_LARGEST_PAGE = 100
#: Clients ``all_clients`` reads at a time.
_CHUNK = 500


class Tenant:
    """An Auth0 tenant's clients and credentials in one SQLite file (or ``":memory:"``)."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "embedded",
        busy_timeout: float = 5.0,
        limits: EntityLimits = NO_LIMITS,
    ) -> None:
        self.path = str(path)
        self.name = name
        #: Auth0's entity limits of the plan this tenant imitates (none by default).
        self.limits = limits
        self._apply_lock = ApplyLock(self.path)
        self._store = TenantStore(self.path, busy_timeout=busy_timeout, limits=limits)
        #: The tenant's APIs (resource servers), in the same file.
        self.resource_servers = ResourceServers(self._store)
        #: Which client may call which API with which scopes.
        self.client_grants = ClientGrants(self._store)
        #: How users log in, and the clients each connection is enabled for.
        self.connections = Connections(self._store)
        try:
            self._initialize()
        except BaseException:
            self._store.close()
            raise

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Tenant:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- locking ----------------------------------------------------------------------------

    @contextmanager
    def exclusive(self, wait_seconds: float = 5.0) -> Iterator[None]:
        """Hold the registry for one multi-step writer (an ``apply``) until the block ends.

        An advisory ``flock`` on ``PATH.lock``: the kernel drops it if the process dies.
        Re-entrant within one thread of this Tenant.
        """
        if self.path == MEMORY:
            yield
            return
        with self._apply_lock.held(wait_seconds):
            yield

    # -- clients ----------------------------------------------------------------------------

    def list_clients(
        self,
        *,
        page: int | str | None = None,
        per_page: int | str | None = None,
        include_totals: bool | str | None = None,
        fields: str | None = None,
        include_fields: bool | str | None = None,
        is_global: bool | str | None = None,
        is_first_party: bool | str | None = None,
        app_type: str | None = None,
        external_client_id: str | None = None,
    ) -> list[JsonObject] | JsonObject:
        """GET /clients: a page in creation order, or ``{total, start, limit, clients}``."""
        query = parse_client_query(
            page=page,
            per_page=per_page,
            include_totals=include_totals,
            fields=fields,
            include_fields=include_fields,
            is_global=is_global,
            is_first_party=is_first_party,
            app_type=app_type,
            external_client_id=external_client_id,
        )
        start = query.page * query.per_page
        with self._store.transaction(write=False) as rows:
            clients = rows.clients_matching(query, offset=start)
            total = rows.count_matching(query) if query.include_totals else 0
        if query.projection is not None:
            clients = [query.projection.apply(client) for client in clients]
        if query.include_totals:
            return {"total": total, "start": start, "limit": query.per_page, "clients": clients}
        return clients

    def all_clients(self, *, include_global: bool = False) -> Iterator[JsonObject]:
        """Every client in creation order, secrets included, read a chunk at a time, so
        a large tenant is never all in memory at once (nor its lock held between chunks).

        Each chunk is one read after the last client of the one before (creation order
        only grows), so a client that exists throughout is never skipped nor read twice.
        """
        after = 0
        while True:
            with self._store.transaction(write=False) as rows:
                chunk = rows.clients_after(after, include_global=include_global, limit=_CHUNK)
            yield from (client for _, client in chunk)
            if len(chunk) < _CHUNK:
                return
            after = chunk[-1][0]

    def get_client(
        self, client_id: str, *, fields: str | None = None, include_fields: bool | str | None = None
    ) -> JsonObject:
        projection = parse_projection(fields, include_fields)
        with self._store.transaction(write=False) as rows:
            client = _require_client(rows, client_id)
        return projection.apply(client) if projection is not None else client

    def find_by_external_client_id(self, url: str) -> JsonObject | None:
        with self._store.transaction(write=False) as rows:
            return rows.client_by_external_id(url)

    def create_client(self, body: dict[str, Any]) -> JsonObject:
        """POST /clients: the new client with its server defaults, id and secret."""
        return self._create(check_new_client(body), client_id=None, client_secret=None)

    def seed_client(self, body: dict[str, Any]) -> JsonObject:
        """Insert a client as it already exists elsewhere: ``client_id`` (and
        ``client_secret``) may be given; everything else is checked as on create. A
        legacy name (``cross_origin_auth``) is kept as given, as an older tenant keeps it."""
        if not isinstance(body, dict):
            check_new_client(body)
        fields = dict(body)
        client_id = fields.pop("client_id", None)
        client_secret = fields.pop("client_secret", None)
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise invalid_body("Expected a non-empty string", name)
        return self._create(
            check_new_client(fields),
            client_id=client_id,
            client_secret=client_secret,
            legacy_names=True,
        )

    def patch_client(self, client_id: str, body: dict[str, Any]) -> JsonObject:
        """PATCH /clients/{id}: a merge patch (RFC 7386); arrays and scalars replace."""
        patch = check_client_patch(body)
        with self._store.transaction(write=True) as rows:
            current = _require_client(rows, client_id)
            patch = _with_alias_of(current, patch)
            if current.get("external_metadata_type") == "cimd":
                check_cimd_patch(patch)
            check_third_party_body(patch, current)
            updated = with_legacy_logout(
                merge_patch(_without_replaced_methods(current, patch), patch)
            )
            check_client_rules(
                updated,
                previous=current,
                credential_types=rows.credential_types(client_id),
            )
            rows.update_client(updated)
        return updated

    def delete_client(self, client_id: str) -> None:
        """DELETE /clients/{id}: also for an unknown id, as Auth0 answers 204 twice. The
        client's grants go with it, and it leaves every connection's enabled clients."""
        with self._store.transaction(write=True) as rows:
            rows.delete_client(client_id)

    def rotate_secret(self, client_id: str) -> JsonObject:
        with self._store.transaction(write=True) as rows:
            client = _require_client(rows, client_id)
            method = _credential_method(client)
            if method is not None:
                raise ApiError(
                    400,
                    "Bad Request",
                    f"The client authenticates with {method}: it has no secret to rotate",
                    "operation_not_supported",
                )
            client["client_secret"] = new_secret()
            rows.update_client(client)
        return client

    # -- credentials ------------------------------------------------------------------------

    def list_credentials(self, client_id: str) -> list[JsonObject]:
        with self._store.transaction(write=False) as rows:
            _require_client(rows, client_id)
            stored = rows.credentials(client_id)
        # The list answers a missing expiry as null (go-auth0 recording
        # TestClient_ListCredentials); a create answer leaves it out.
        return [{"expires_at": None, **_public_credential(credential)} for credential in stored]

    def create_credential(self, client_id: str, body: dict[str, Any]) -> JsonObject:
        """POST /clients/{id}/credentials; the answer never carries the ``pem``."""
        credential = check_new_credential(body)
        with self._store.transaction(write=True) as rows:
            _require_client(rows, client_id)
            stored = credential.record(new_credential_id(), now_timestamp())
            check_room(rows.credentials(client_id), [stored])
            rows.insert_credential(client_id, stored)
        return _public_credential(stored)

    def get_credential(self, client_id: str, credential_id: str) -> JsonObject:
        with self._store.transaction(write=False) as rows:
            _require_client(rows, client_id)
            stored = _require_credential(rows, client_id, credential_id)
        return _public_credential(stored)

    def patch_credential(
        self, client_id: str, credential_id: str, body: dict[str, Any]
    ) -> JsonObject:
        """PATCH /clients/{id}/credentials/{id}: only ``expires_at`` may change."""
        with self._store.transaction(write=True) as rows:
            _require_client(rows, client_id)
            stored = _require_credential(rows, client_id, credential_id)
            stored = merge_patch(stored, check_credential_patch(body, stored))
            stored["updated_at"] = now_timestamp()
            rows.update_credential(credential_id, stored)
        return _public_credential(stored)

    def delete_credential(self, client_id: str, credential_id: str) -> None:
        """DELETE: 204 for an unknown one too; refused while the client still uses it."""
        with self._store.transaction(write=True) as rows:
            client = rows.client(client_id)
            if client is not None and credential_id in _referenced_credentials(client):
                raise invalid_body(
                    f"Credential {credential_id} is in use by the client: remove it from "
                    "client_authentication_methods or signed_request_object first",
                    "credential_id",
                )
            rows.delete_credential(client_id, credential_id)

    # -- CIMD -------------------------------------------------------------------------------

    def cimd_mapped_fields(self, url: str, document: dict[str, Any]) -> JsonObject:
        """The client fields a fetched Client ID Metadata Document gives (the preview's
        ``mapped_fields``); raises 400 for a document no client could be made from."""
        return cimd_mapped_fields(url, document)

    def cimd_register(self, url: str, document: dict[str, Any]) -> tuple[JsonObject, bool]:
        """POST /clients/cimd/register: create the client for ``url``, or refresh it from
        ``document`` (already fetched and validated). Returns ``(client, created)``.

        Refused (403) while the tenant setting ``client_id_metadata_document_supported``
        is off: Auth0 registers CIMD documents only once an admin turns it on.
        """
        mapped = self.cimd_mapped_fields(url, document)
        with self._store.transaction(write=True) as rows:
            if not _settings(rows)[CIMD_SUPPORTED]:
                raise ApiError(
                    403,
                    "Forbidden",
                    "Client ID Metadata Document registration is not enabled for this tenant "
                    f"(tenant setting {CIMD_SUPPORTED})",
                    "operation_not_supported",
                )
            existing = rows.client_by_external_id(url)
            if existing is None:
                client = new_cimd_client(self.name, mapped, self._signing_key(rows))
                rows.insert_client(client)
                return client, True
            refreshed = {k: v for k, v in existing.items() if k not in ("logo_uri", "jwks_uri")}
            refreshed.update(mapped)
            rows.update_client(refreshed)
            return refreshed, False

    # -- tenant settings --------------------------------------------------------------------

    def tenant_settings(self) -> JsonObject:
        """GET /tenants/settings, of the settings this tenant holds."""
        with self._store.transaction(write=False) as rows:
            return _settings(rows)

    def update_tenant_settings(self, body: dict[str, Any]) -> JsonObject:
        """Change the settings ``body`` names; the others keep their values."""
        changes = check_tenant_settings(body)
        with self._store.transaction(write=True) as rows:
            rows.set_tenant_settings({**rows.tenant_settings(), **changes})
            return _settings(rows)

    # -- grants, APIs and connections, as the registry reads and writes them -------------

    def all_client_grants(self) -> list[JsonObject]:
        """Every client grant in creation order, page by page as a caller over HTTP."""
        return _all_checkpoint_pages(
            lambda after: self.client_grants.list(take=_LARGEST_PAGE, **after), "client_grants"
        )

    def create_client_grant(self, body: dict[str, Any]) -> JsonObject:
        return self.client_grants.create(body)

    def patch_client_grant(self, grant_id: str, body: dict[str, Any]) -> JsonObject:
        return self.client_grants.patch(grant_id, body)

    def delete_client_grant(self, grant_id: str) -> None:
        self.client_grants.delete(grant_id)

    def all_resource_servers(self) -> list[JsonObject]:
        servers: list[JsonObject] = []
        page = 0
        while True:
            answer = self.resource_servers.list(
                page=page, per_page=_LARGEST_PAGE, include_totals=False
            )
            assert isinstance(answer, list)
            servers += answer
            if len(answer) < _LARGEST_PAGE:
                return servers
            page += 1

    def all_connections(self) -> list[JsonObject]:
        """Every connection, each with ``enabled_clients`` (the ids it is enabled for)."""
        connections = _all_checkpoint_pages(
            lambda after: self.connections.list(take=_LARGEST_PAGE, **after), "connections"
        )
        for connection in connections:
            connection["enabled_clients"] = self._enabled_client_ids(str(connection["id"]))
        return connections

    def _enabled_client_ids(self, connection_id: str) -> list[str]:
        enabled = _all_checkpoint_pages(
            lambda after: self.connections.clients(connection_id, take=_LARGEST_PAGE, **after),
            "clients",
        )
        return [str(client["client_id"]) for client in enabled]

    def patch_connection_clients(self, connection_id: str, changes: list[dict[str, Any]]) -> None:
        self.connections.update_clients(connection_id, changes)

    # -- housekeeping -----------------------------------------------------------------------

    def reset(self) -> None:
        """Delete every client, credential, API, grant and connection, and set the tenant
        settings back to their defaults; the global client comes back, new."""
        with self._store.transaction(write=True) as rows:
            rows.delete_everything()
            rows.insert_client(global_client(self.name, self._signing_key(rows)))

    # -- internals --------------------------------------------------------------------------

    def _initialize(self) -> None:
        with self._store.transaction(write=True) as rows:
            if rows.create_schema():
                rows.start_new_file(make_signing_key(self.name))
                rows.insert_client(global_client(self.name, self._signing_key(rows)))

    def _create(
        self,
        body: Mapping[str, Any],
        *,
        client_id: str | None,
        client_secret: str | None,
        legacy_names: bool = False,
    ) -> JsonObject:
        fields = {k: v for k, v in body.items() if v is not None}
        fields = _with_alias_of(fields if legacy_names else {}, fields)
        third_party = is_strict_third_party(fields)
        check_third_party_body(fields, fields)
        methods = fields.pop("client_authentication_methods", None)
        with self._store.transaction(write=True) as rows:
            if client_id is not None and rows.client(client_id) is not None:
                raise ApiError(
                    409, "Conflict", f"A client with client_id {client_id} already exists"
                )
            client = new_client(
                self.name,
                fields.pop("name"),
                client_id=client_id,
                client_secret=client_secret,
                signing_key=self._signing_key(rows),
                third_party=third_party,
                app_type=fields.get("app_type"),
            )
            if "refresh_token" in fields:
                fields["refresh_token"] = merge_patch(
                    client["refresh_token"], fields["refresh_token"]
                )
            if "jwt_configuration" in fields:
                # A given jwt_configuration replaces the default lifetime, as Auth0 does;
                # a third-party client keeps the one algorithm it may have.
                kept = {"alg": THIRD_PARTY_JWT_ALG} if third_party else {}
                fields["jwt_configuration"] = {
                    "secret_encoded": False,
                    **kept,
                    **fields["jwt_configuration"],
                }
            if "cross_origin_auth" in fields:
                client.pop("cross_origin_authentication", None)
            client.update(fields)
            client = with_legacy_logout(client)
            created: dict[str, list[JsonObject]] = {}
            if methods:
                client["client_authentication_methods"], created = self._inline_credentials(methods)
            for_requests = _inline_request_object_credentials(client)
            everything = [c for cs in created.values() for c in cs] + for_requests
            check_room([], everything)
            check_client_rules(
                client,
                previous=None,
                credential_types={c["id"]: c["credential_type"] for c in everything},
            )
            rows.insert_client(client)
            for credential in everything:
                rows.insert_credential(client["client_id"], credential)
        # POST answers the new credentials in full; later reads answer only their ids (the
        # same for signed_request_object: go-auth0 recording TestClientSignedRequestObject).
        answer = dict(client)
        if created:
            answer["client_authentication_methods"] = {
                method: {"credentials": [_public_credential(c) for c in credentials]}
                for method, credentials in created.items()
            }
        if for_requests:
            answer["signed_request_object"] = {
                **client["signed_request_object"],
                "credentials": [_public_credential(c) for c in for_requests],
            }
        return answer

    def _inline_credentials(
        self, methods: Mapping[str, Any]
    ) -> tuple[JsonObject, dict[str, list[JsonObject]]]:
        """Stored-to-be credentials for POST /clients, and the id references to keep."""
        references: JsonObject = {}
        created: dict[str, list[JsonObject]] = {}
        now = now_timestamp()
        for method, config in methods.items():
            created[method] = [
                check_new_credential(
                    body, f"client_authentication_methods.{method}.credentials[{index}]"
                ).record(new_credential_id(), now)
                for index, body in enumerate(config["credentials"])
            ]
            references[method] = {"credentials": [{"id": c["id"]} for c in created[method]]}
        return references, created

    def _signing_key(self, rows: TenantRows) -> JsonObject:
        stored = rows.signing_key()
        return stored if stored is not None else make_signing_key(self.name)


def _all_checkpoint_pages(
    read: Callable[[dict[str, str]], JsonObject | list[JsonObject]], member: str
) -> list[JsonObject]:
    """Every item of a checkpoint-paged list: ``read`` is given ``{"from": next}`` after
    the first page."""
    items: list[JsonObject] = []
    after: dict[str, str] = {}
    while True:
        answer = read(after)
        assert isinstance(answer, dict)
        items += answer[member]
        if not answer.get("next"):
            return items
        after = {"from": str(answer["next"])}


def _settings(rows: TenantRows) -> JsonObject:
    return {**DEFAULT_TENANT_SETTINGS, **rows.tenant_settings()}


def _require_client(rows: TenantRows, client_id: str) -> JsonObject:
    client = rows.client(client_id)
    if client is None:
        raise ApiError(404, "Not Found", "The client does not exist", "inexistent_client")
    return client


def _require_credential(rows: TenantRows, client_id: str, credential_id: str) -> JsonObject:
    stored = rows.credential(client_id, credential_id)
    if stored is None:
        raise ApiError(404, "Not Found", "The credential does not exist", "inexistent_credential")
    return stored


def _with_alias_of(record: Mapping[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``body`` under the name ``record`` keeps cross-origin authentication under:
    ``cross_origin_auth``, the legacy name, where an older tenant's client still has it
    (and answers it), else ``cross_origin_authentication``."""
    legacy, current = "cross_origin_auth", "cross_origin_authentication"
    kept, other = (legacy, current) if legacy in record else (current, legacy)
    if other not in body:
        return body
    renamed = {k: v for k, v in body.items() if k != other}
    renamed.setdefault(kept, body[other])
    return renamed


def _credential_method(client: Mapping[str, Any]) -> str | None:
    """The method the client authenticates with credentials by (private_key_jwt or mTLS),
    set by either field: such a client has no secret to rotate."""
    methods = client.get("client_authentication_methods") or {}
    method = next(iter(methods), None) or client.get("token_endpoint_auth_method")
    return str(method) if method in CREDENTIAL_TYPE_FOR_METHOD else None


def _without_replaced_methods(current: JsonObject, patch: Mapping[str, Any]) -> JsonObject:
    """``current`` without its authentication methods when the patch sets them: the
    object is replaced, not merged, so a switch from one method to another leaves one
    (Terraform's method blocks conflict with each other)."""
    if not isinstance(patch.get("client_authentication_methods"), dict):
        return current
    return {k: v for k, v in current.items() if k != "client_authentication_methods"}


def _referenced_credentials(client: Mapping[str, Any]) -> set[str]:
    methods = client.get("client_authentication_methods") or {}
    request_object = client.get("signed_request_object") or {}
    return {
        reference["id"]
        for config in [*methods.values(), request_object]
        for reference in config.get("credentials", [])
    }


def _inline_request_object_credentials(client: JsonObject) -> list[JsonObject]:
    """The credentials POST /clients gives in ``signed_request_object``, as stored: the
    client keeps their ids (Auth0 docs configure-jar.mdx, "Configure JAR for a new
    application")."""
    request_object = client.get("signed_request_object")
    if not isinstance(request_object, dict) or not request_object.get("credentials"):
        return []
    now = now_timestamp()
    stored = [
        check_new_credential(body, f"signed_request_object.credentials[{index}]").record(
            new_credential_id(), now
        )
        for index, body in enumerate(request_object["credentials"])
    ]
    references = [{"id": credential["id"]} for credential in stored]
    client["signed_request_object"] = {**request_object, "credentials": references}
    return stored


def _public_credential(stored: Mapping[str, Any]) -> JsonObject:
    return {k: v for k, v in stored.items() if k != "pem"}
