"""The embedded registry's engine: one Auth0 tenant's clients, kept in one SQLite file.

``Tenant`` answers the Auth0 Management API v2 client routes as methods that take and
return Auth0's JSON shapes (plain dicts) and raise Auth0's errors (``ApiError``), so the
in-process backend and the HTTP server (``reconciler serve``) share one implementation.
What it accepts is decided in ``tenant_rules``; this module stores and assembles.

Each client is a JSON text column beside the columns it is filtered and ordered by.
Every write is one ``BEGIN IMMEDIATE`` transaction, so a client and its credentials are
never half-written, and several processes may share the file (WAL mode). ``exclusive()``
is the separate, longer lock one ``apply`` holds across its many writes.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from reconciler.errors import ApiError, RegistryBusyError, RegistryError
from reconciler.registries.tenant_rules import (
    DEFAULT_GRANT_TYPES,
    JsonObject,
    NewCredential,
    check_cimd_patch,
    check_client_patch,
    check_client_rules,
    check_credential_patch,
    check_new_client,
    check_new_credential,
    cimd_mapped_fields,
    format_timestamp,
    invalid_body,
    merge_patch,
    parse_client_query,
    parse_projection,
)

__all__ = ["MEMORY", "Tenant"]

MEMORY = ":memory:"
SCHEMA_VERSION = 1
GLOBAL_CLIENT_NAME = "All Applications"
_ALPHANUMERIC = string.ascii_letters + string.digits
_LOCK_POLL_SECONDS = 0.05
#: SQLite integers are signed 64-bit; an OFFSET past this cannot be bound.
_MAX_OFFSET = 2**63 - 1

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tenant_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS clients (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        external_client_id TEXT UNIQUE,
        is_global INTEGER NOT NULL,
        is_first_party INTEGER,
        app_type TEXT,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS clients_by_app_type ON clients (app_type)",
    "CREATE INDEX IF NOT EXISTS clients_by_kind ON clients (is_global, is_first_party)",
    """CREATE TABLE IF NOT EXISTS credentials (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        credential_id TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL REFERENCES clients (client_id),
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS credentials_by_client ON credentials (client_id)",
)

#: What POST /clients fills in when the body leaves it out (recorded from a live tenant).
_CLIENT_DEFAULTS: JsonObject = {
    "is_first_party": True,
    "is_token_endpoint_ip_header_trusted": False,
    "oidc_conformant": False,
    "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
    "sso_disabled": False,
    "cross_origin_authentication": False,
    "grant_types": list(DEFAULT_GRANT_TYPES),
    "custom_login_page_on": True,
    "refresh_token": {
        "rotation_type": "non-rotating",
        "expiration_type": "non-expiring",
        "leeway": 0,
        "token_lifetime": 2592000,
        "infinite_token_lifetime": True,
        "infinite_idle_token_lifetime": True,
        "idle_token_lifetime": 1296000,
    },
}
_CIMD_REFRESH_TOKEN: JsonObject = {
    "rotation_type": "rotating",
    "expiration_type": "expiring",
    "leeway": 0,
    "token_lifetime": 2592000,
    "infinite_token_lifetime": False,
    "infinite_idle_token_lifetime": False,
    "idle_token_lifetime": 1296000,
}


class Tenant:
    """An Auth0 tenant's clients and credentials in one SQLite file (or ``":memory:"``)."""

    def __init__(
        self, path: str | Path, *, name: str = "embedded", busy_timeout: float = 5.0
    ) -> None:
        self.path = str(path)
        self.name = name
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._apply_lock = threading.RLock()
        self._apply_depth = 0
        self._apply_lock_fd: int | None = None
        self._connection: sqlite3.Connection | None = None
        if self.path != MEMORY:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"cannot create the directory for the registry {self.path}: {exc.strerror}"
                ) from exc
        with self._sqlite_errors():
            connection = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA foreign_keys=ON")
                self._connection = connection
                self._initialize()
            except BaseException:
                self._connection = None
                connection.close()
                raise

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

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
        if not self._apply_lock.acquire(timeout=max(wait_seconds, 0.0)):
            raise self._apply_busy()
        try:
            if self._apply_depth == 0:
                self._apply_lock_fd = self._lock_file(wait_seconds)
            self._apply_depth += 1
            try:
                yield
            finally:
                self._apply_depth -= 1
                if self._apply_depth == 0 and self._apply_lock_fd is not None:
                    fcntl.flock(self._apply_lock_fd, fcntl.LOCK_UN)
                    os.close(self._apply_lock_fd)
                    self._apply_lock_fd = None
        finally:
            self._apply_lock.release()

    def _lock_file(self, wait_seconds: float) -> int:
        lock_path = f"{self.path}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RegistryError(f"cannot open the lock file {lock_path}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    os.close(fd)
                    raise self._apply_busy() from None
                time.sleep(min(_LOCK_POLL_SECONDS, remaining))
            except OSError as exc:
                os.close(fd)
                raise RegistryError(f"cannot lock {lock_path}: {exc.strerror}") from exc

    def _apply_busy(self) -> RegistryBusyError:
        return RegistryBusyError(
            f"the registry is locked: another apply is running against {self.path}; "
            "try again when it ends"
        )

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
        conditions: list[str] = []
        parameters: list[object] = []
        if query.is_global is not None:
            conditions.append("is_global = ?")
            parameters.append(int(query.is_global))
        if query.is_first_party is not None:
            conditions.append("is_first_party = ?")
            parameters.append(int(query.is_first_party))
        if query.app_types:
            conditions.append(f"app_type IN ({', '.join('?' * len(query.app_types))})")
            parameters.extend(query.app_types)
        if query.external_client_id is not None:
            conditions.append("external_client_id = ?")
            parameters.append(query.external_client_id)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        start = query.page * query.per_page
        with self._transaction(write=False) as connection:
            rows = connection.execute(
                f"SELECT body FROM clients{where} ORDER BY seq LIMIT ? OFFSET ?",
                [*parameters, query.per_page, min(start, _MAX_OFFSET)],
            ).fetchall()
            total = (
                connection.execute(f"SELECT COUNT(*) FROM clients{where}", parameters).fetchone()[0]
                if query.include_totals
                else 0
            )
        clients = [self._decode(body) for (body,) in rows]
        if query.projection is not None:
            clients = [query.projection.apply(client) for client in clients]
        if query.include_totals:
            return {"total": total, "start": start, "limit": query.per_page, "clients": clients}
        return clients

    def all_clients(self, *, include_global: bool = False) -> list[JsonObject]:
        """Every client in creation order, secrets included, in one query."""
        where = "" if include_global else " WHERE is_global = 0"
        with self._transaction(write=False) as connection:
            rows = connection.execute(f"SELECT body FROM clients{where} ORDER BY seq").fetchall()
        return [self._decode(body) for (body,) in rows]

    def get_client(
        self, client_id: str, *, fields: str | None = None, include_fields: bool | str | None = None
    ) -> JsonObject:
        projection = parse_projection(fields, include_fields)
        with self._transaction(write=False) as connection:
            client = self._require_client(connection, client_id)
        return projection.apply(client) if projection is not None else client

    def find_by_external_client_id(self, url: str) -> JsonObject | None:
        with self._transaction(write=False) as connection:
            return self._client_by_external_id(connection, url)

    def create_client(self, body: dict[str, Any]) -> JsonObject:
        """POST /clients: the new client with its server defaults, id and secret."""
        return self._create(check_new_client(body), client_id=None, client_secret=None)

    def seed_client(self, body: dict[str, Any]) -> JsonObject:
        """Insert a client as it already exists elsewhere: ``client_id`` (and
        ``client_secret``) may be given; everything else is checked as on create."""
        if not isinstance(body, dict):
            check_new_client(body)
        fields = dict(body)
        client_id = fields.pop("client_id", None)
        client_secret = fields.pop("client_secret", None)
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise invalid_body("Expected a non-empty string", name)
        return self._create(
            check_new_client(fields), client_id=client_id, client_secret=client_secret
        )

    def patch_client(self, client_id: str, body: dict[str, Any]) -> JsonObject:
        """PATCH /clients/{id}: a merge patch (RFC 7386); arrays and scalars replace."""
        patch = _with_current_alias(check_client_patch(body))
        with self._transaction(write=True) as connection:
            current = self._require_client(connection, client_id)
            if current.get("external_metadata_type") == "cimd":
                check_cimd_patch(patch)
            updated = merge_patch(current, patch)
            check_client_rules(
                updated,
                previous=current,
                credential_types=self._credential_types(connection, client_id),
            )
            self._update_client(connection, updated)
        return updated

    def delete_client(self, client_id: str) -> None:
        """DELETE /clients/{id}: also for an unknown id, as Auth0 answers 204 twice."""
        with self._transaction(write=True) as connection:
            connection.execute("DELETE FROM credentials WHERE client_id = ?", (client_id,))
            connection.execute("DELETE FROM clients WHERE client_id = ?", (client_id,))

    def rotate_secret(self, client_id: str) -> JsonObject:
        with self._transaction(write=True) as connection:
            client = self._require_client(connection, client_id)
            if _uses_private_key_jwt(client):
                raise ApiError(
                    400,
                    "Bad Request",
                    "The client authenticates with private_key_jwt: it has no secret to rotate",
                    "operation_not_supported",
                )
            client["client_secret"] = _new_secret()
            self._update_client(connection, client)
        return client

    # -- credentials ------------------------------------------------------------------------

    def list_credentials(self, client_id: str) -> list[JsonObject]:
        with self._transaction(write=False) as connection:
            self._require_client(connection, client_id)
            rows = connection.execute(
                "SELECT body FROM credentials WHERE client_id = ? ORDER BY seq", (client_id,)
            ).fetchall()
        return [_public_credential(self._decode(body)) for (body,) in rows]

    def create_credential(self, client_id: str, body: dict[str, Any]) -> JsonObject:
        """POST /clients/{id}/credentials; the answer never carries the ``pem``."""
        credential = check_new_credential(body)
        with self._transaction(write=True) as connection:
            self._require_client(connection, client_id)
            stored = self._insert_credential(connection, client_id, credential)
        return _public_credential(stored)

    def get_credential(self, client_id: str, credential_id: str) -> JsonObject:
        with self._transaction(write=False) as connection:
            self._require_client(connection, client_id)
            stored = self._require_credential(connection, client_id, credential_id)
        return _public_credential(stored)

    def patch_credential(
        self, client_id: str, credential_id: str, body: dict[str, Any]
    ) -> JsonObject:
        """PATCH /clients/{id}/credentials/{id}: only ``expires_at`` may change."""
        changes = check_credential_patch(body)
        with self._transaction(write=True) as connection:
            self._require_client(connection, client_id)
            stored = merge_patch(
                self._require_credential(connection, client_id, credential_id), changes
            )
            stored["updated_at"] = _now()
            connection.execute(
                "UPDATE credentials SET body = ? WHERE credential_id = ?",
                (_encode(stored), credential_id),
            )
        return _public_credential(stored)

    def delete_credential(self, client_id: str, credential_id: str) -> None:
        """DELETE: 204 for an unknown one too; refused while the client still uses it."""
        with self._transaction(write=True) as connection:
            client = self._client_by_id(connection, client_id)
            if client is not None and credential_id in _referenced_credentials(client):
                raise invalid_body(
                    f"Credential {credential_id} is in use by the client: remove it from "
                    "client_authentication_methods first",
                    "credential_id",
                )
            connection.execute(
                "DELETE FROM credentials WHERE client_id = ? AND credential_id = ?",
                (client_id, credential_id),
            )

    # -- CIMD -------------------------------------------------------------------------------

    def cimd_mapped_fields(self, url: str, document: dict[str, Any]) -> JsonObject:
        """The client fields a fetched Client ID Metadata Document gives (the preview's
        ``mapped_fields``); raises 400 for a document no client could be made from."""
        return cimd_mapped_fields(url, document)

    def cimd_register(self, url: str, document: dict[str, Any]) -> tuple[JsonObject, bool]:
        """POST /clients/cimd/register: create the client for ``url``, or refresh it from
        ``document`` (already fetched and validated). Returns ``(client, created)``."""
        mapped = self.cimd_mapped_fields(url, document)
        with self._transaction(write=True) as connection:
            existing = self._client_by_external_id(connection, url)
            if existing is None:
                client = self._new_cimd_client(connection, mapped)
                self._insert_client(connection, client)
                return client, True
            refreshed = {k: v for k, v in existing.items() if k not in ("logo_uri", "jwks_uri")}
            refreshed.update(mapped)
            self._update_client(connection, refreshed)
            return refreshed, False

    # -- housekeeping -----------------------------------------------------------------------

    def reset(self) -> None:
        """Delete every client and credential; the global client comes back, new."""
        with self._transaction(write=True) as connection:
            connection.execute("DELETE FROM credentials")
            connection.execute("DELETE FROM clients")
            self._insert_client(connection, self._global_client(connection))

    # -- internals --------------------------------------------------------------------------

    def _initialize(self) -> None:
        with self._transaction(write=True) as connection:
            for statement in _SCHEMA:
                connection.execute(statement)
            row = connection.execute(
                "SELECT value FROM tenant_meta WHERE key = 'schema_version'"
            ).fetchone()
            if row is not None:
                if int(row[0]) > SCHEMA_VERSION:
                    raise RegistryError(
                        f"the registry {self.path} was written by a newer reconciler "
                        f"(schema {row[0]}; this one reads {SCHEMA_VERSION})"
                    )
                return
            connection.executemany(
                "INSERT INTO tenant_meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("signing_key", _encode(_make_signing_key(self.name))),
                ],
            )
            self._insert_client(connection, self._global_client(connection))

    def _create(
        self, body: Mapping[str, Any], *, client_id: str | None, client_secret: str | None
    ) -> JsonObject:
        fields = _with_current_alias({k: v for k, v in body.items() if v is not None})
        methods = fields.pop("client_authentication_methods", None)
        with self._transaction(write=True) as connection:
            if client_id is not None and self._client_by_id(connection, client_id) is not None:
                raise ApiError(
                    409, "Conflict", f"A client with client_id {client_id} already exists"
                )
            client: JsonObject = {
                "tenant": self.name,
                "global": False,
                "name": fields.pop("name"),
                "client_id": client_id or _random_id(32),
                "client_secret": client_secret or _new_secret(),
                **copy.deepcopy(_CLIENT_DEFAULTS),
                "signing_keys": [self._signing_key(connection)],
            }
            if "refresh_token" in fields:
                fields["refresh_token"] = merge_patch(
                    client["refresh_token"], fields["refresh_token"]
                )
            if "jwt_configuration" in fields:
                # A given jwt_configuration replaces the default lifetime, as Auth0 does.
                fields["jwt_configuration"] = {
                    "secret_encoded": False,
                    **fields["jwt_configuration"],
                }
            client.update(fields)
            created: dict[str, list[JsonObject]] = {}
            if methods:
                client["client_authentication_methods"], created = self._inline_credentials(methods)
            check_client_rules(
                client,
                previous=None,
                credential_types={
                    c["id"]: c["credential_type"] for cs in created.values() for c in cs
                },
            )
            self._insert_client(connection, client)
            for credentials in created.values():
                for credential in credentials:
                    self._store_credential(connection, client["client_id"], credential)
        if created:
            # POST answers the new credentials in full; later reads answer only their ids.
            return {
                **client,
                "client_authentication_methods": {
                    method: {"credentials": [_public_credential(c) for c in credentials]}
                    for method, credentials in created.items()
                },
            }
        return client

    def _inline_credentials(
        self, methods: Mapping[str, Any]
    ) -> tuple[JsonObject, dict[str, list[JsonObject]]]:
        """Stored-to-be credentials for POST /clients, and the id references to keep."""
        references: JsonObject = {}
        created: dict[str, list[JsonObject]] = {}
        now = _now()
        for method, config in methods.items():
            created[method] = [
                check_new_credential(
                    body, f"client_authentication_methods.{method}.credentials[{index}]"
                ).record(_new_credential_id(), now)
                for index, body in enumerate(config["credentials"])
            ]
            references[method] = {"credentials": [{"id": c["id"]} for c in created[method]]}
        return references, created

    def _new_cimd_client(self, connection: sqlite3.Connection, mapped: JsonObject) -> JsonObject:
        optional: JsonObject = {
            k: mapped[k] for k in ("logo_uri", "description", "jwks_uri") if k in mapped
        }
        return {
            "tenant": self.name,
            "global": False,
            "name": mapped["name"],
            "client_id": "tpc_" + _random_id(22),
            "client_secret": _new_secret(),
            "app_type": mapped["app_type"],
            "is_first_party": False,
            "is_token_endpoint_ip_header_trusted": False,
            "oidc_conformant": True,
            "callbacks": mapped["callbacks"],
            "jwt_configuration": {
                "secret_encoded": False,
                "alg": "RS256",
                "lifetime_in_seconds": 3600,
            },
            "signing_keys": [self._signing_key(connection)],
            "sso_disabled": False,
            "cross_origin_authentication": False,
            "grant_types": mapped["grant_types"],
            "custom_login_page_on": True,
            "token_endpoint_auth_method": mapped["token_endpoint_auth_method"],
            "refresh_token": dict(_CIMD_REFRESH_TOKEN),
            "third_party_security_mode": "strict",
            **optional,
            "external_client_id": mapped["external_client_id"],
            "external_metadata_type": "cimd",
            "external_metadata_created_by": "admin",
        }

    def _global_client(self, connection: sqlite3.Connection) -> JsonObject:
        return {
            "tenant": self.name,
            "global": True,
            "is_token_endpoint_ip_header_trusted": False,
            "name": GLOBAL_CLIENT_NAME,
            "callbacks": [],
            "is_first_party": True,
            "oidc_conformant": False,
            "sso_disabled": False,
            "cross_origin_authentication": False,
            "client_id": _random_id(32),
            "callback_url_template": False,
            "client_secret": _new_secret(),
            "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
            "signing_keys": [self._signing_key(connection)],
            "custom_login_page_on": True,
        }

    def _signing_key(self, connection: sqlite3.Connection) -> JsonObject:
        row = connection.execute(
            "SELECT value FROM tenant_meta WHERE key = 'signing_key'"
        ).fetchone()
        if row is None:
            return _make_signing_key(self.name)
        return self._decode(row[0])

    def _insert_client(self, connection: sqlite3.Connection, client: JsonObject) -> None:
        connection.execute(
            "INSERT INTO clients (client_id, is_global, external_client_id, is_first_party,"
            " app_type, body) VALUES (?, ?, ?, ?, ?, ?)",
            (client["client_id"], int(bool(client.get("global"))), *_indexed(client)),
        )

    def _update_client(self, connection: sqlite3.Connection, client: JsonObject) -> None:
        connection.execute(
            "UPDATE clients SET external_client_id = ?, is_first_party = ?, app_type = ?,"
            " body = ? WHERE client_id = ?",
            (*_indexed(client), client["client_id"]),
        )

    def _client_by_id(self, connection: sqlite3.Connection, client_id: str) -> JsonObject | None:
        row = connection.execute(
            "SELECT body FROM clients WHERE client_id = ?", (client_id,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def _client_by_external_id(self, connection: sqlite3.Connection, url: str) -> JsonObject | None:
        row = connection.execute(
            "SELECT body FROM clients WHERE external_client_id = ?", (url,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def _require_client(self, connection: sqlite3.Connection, client_id: str) -> JsonObject:
        client = self._client_by_id(connection, client_id)
        if client is None:
            raise ApiError(404, "Not Found", "The client does not exist", "inexistent_client")
        return client

    def _require_credential(
        self, connection: sqlite3.Connection, client_id: str, credential_id: str
    ) -> JsonObject:
        row = connection.execute(
            "SELECT body FROM credentials WHERE client_id = ? AND credential_id = ?",
            (client_id, credential_id),
        ).fetchone()
        if row is None:
            raise ApiError(
                404, "Not Found", "The credential does not exist", "inexistent_credential"
            )
        return self._decode(row[0])

    def _credential_types(self, connection: sqlite3.Connection, client_id: str) -> dict[str, str]:
        rows = connection.execute(
            "SELECT credential_id, body FROM credentials WHERE client_id = ?", (client_id,)
        ).fetchall()
        return {
            credential_id: str(self._decode(body).get("credential_type"))
            for credential_id, body in rows
        }

    def _insert_credential(
        self, connection: sqlite3.Connection, client_id: str, credential: NewCredential
    ) -> JsonObject:
        stored = credential.record(_new_credential_id(), _now())
        self._store_credential(connection, client_id, stored)
        return stored

    def _store_credential(
        self, connection: sqlite3.Connection, client_id: str, stored: JsonObject
    ) -> None:
        connection.execute(
            "INSERT INTO credentials (credential_id, client_id, body) VALUES (?, ?, ?)",
            (stored["id"], client_id, _encode(stored)),
        )

    def _decode(self, text: str) -> JsonObject:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"the registry {self.path} holds a damaged record: {exc}") from exc
        if not isinstance(value, dict):
            raise RegistryError(f"the registry {self.path} holds a damaged record")
        return value

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction under the connection lock; writes take SQLite's write lock first."""
        with self._lock, self._sqlite_errors():
            connection = self._connection
            if connection is None:
                raise RegistryError(f"the registry {self.path} is closed")
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise RegistryBusyError(
                    f"the registry {self.path} is busy: another process held its write lock "
                    f"for more than {self._busy_timeout:g}s; try again"
                ) from exc
            raise RegistryError(f"the registry {self.path} failed: {exc}") from exc
        except sqlite3.Error as exc:
            raise RegistryError(f"the registry {self.path} failed: {exc}") from exc


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


def _indexed(client: Mapping[str, Any]) -> tuple[object, ...]:
    """The columns beside the JSON body, in the order the statements above bind them."""
    first_party = client.get("is_first_party")
    return (
        client.get("external_client_id"),
        None if first_party is None else int(bool(first_party)),
        client.get("app_type"),
        _encode(client),
    )


def _with_current_alias(body: dict[str, Any]) -> dict[str, Any]:
    """``cross_origin_auth`` is the legacy name of ``cross_origin_authentication``."""
    if "cross_origin_auth" not in body:
        return body
    renamed = {k: v for k, v in body.items() if k != "cross_origin_auth"}
    renamed.setdefault("cross_origin_authentication", body["cross_origin_auth"])
    return renamed


def _uses_private_key_jwt(client: Mapping[str, Any]) -> bool:
    methods = client.get("client_authentication_methods") or {}
    return "private_key_jwt" in methods or client.get("token_endpoint_auth_method") == (
        "private_key_jwt"
    )


def _referenced_credentials(client: Mapping[str, Any]) -> set[str]:
    methods = client.get("client_authentication_methods") or {}
    return {
        reference["id"]
        for config in methods.values()
        for reference in config.get("credentials", [])
    }


def _public_credential(stored: Mapping[str, Any]) -> JsonObject:
    return {k: v for k, v in stored.items() if k != "pem"}


def _encode(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _new_secret() -> str:
    return secrets.token_urlsafe(48)  # 64 characters


def _new_credential_id() -> str:
    return "cred_" + _random_id(22)


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


@cache
def _signing_private_key() -> rsa.RSAPrivateKey:
    # Key generation is the slow part; nothing is ever signed with it, so one per process does.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _make_signing_key(tenant_name: str) -> JsonObject:
    """The tenant's ``signing_keys`` entry: a self-signed certificate, as Auth0 shows it."""
    key = _signing_private_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, tenant_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return {
        "cert": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "pkcs7": pkcs7.serialize_certificates([certificate], serialization.Encoding.PEM).decode(
            "ascii"
        ),
        "subject": f"/CN={tenant_name}",
    }
