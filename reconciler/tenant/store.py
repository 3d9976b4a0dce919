"""The embedded tenant's SQLite file: its tables, its transactions and every SQL statement.

Each client is a JSON text column beside the columns it is filtered and ordered by; each
credential is a JSON text column beside its client's id. Every write is one ``BEGIN
IMMEDIATE`` transaction, so a client and its credentials are never half-written, and
several processes may share the file (WAL mode). SQLite's failures come out as
``RegistryError`` (``RegistryBusyError`` when another process holds the write lock).
An insert that takes an entity past the tenant's ``EntityLimits`` is refused as Auth0
refuses it (``limits``), and its transaction rolls back.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.errors import RegistryBusyError, RegistryError
from reconciler.tenant.limits import (
    NO_LIMITS,
    EntityLimits,
    credentials_not_in_plan,
    too_many_entities,
)
from reconciler.tenant.rules import ClientQuery, JsonObject

__all__ = ["CLIENT_PAGE", "MEMORY", "SCHEMA_VERSION", "TenantRows", "TenantStore"]

MEMORY = ":memory:"
SCHEMA_VERSION = 1
#: One page of GET /clients (``where`` from the query's filters): walked by the index
#: ``clients_in_order`` in creation order, so no page sorts every client.
CLIENT_PAGE = "SELECT body FROM clients{where} ORDER BY seq LIMIT ? OFFSET ?"
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
    # GET /clients pages by is_global in creation order: walked in that order, no sort.
    "CREATE INDEX IF NOT EXISTS clients_in_order ON clients (is_global, seq)",
    """CREATE TABLE IF NOT EXISTS credentials (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        credential_id TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL REFERENCES clients (client_id),
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS credentials_by_client ON credentials (client_id)",
    """CREATE TABLE IF NOT EXISTS resource_servers (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        identifier TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS client_grants (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        grantee TEXT NOT NULL,
        audience TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (grantee, audience, subject_type)
    )""",
    "CREATE INDEX IF NOT EXISTS client_grants_by_audience ON client_grants (audience)",
    """CREATE TABLE IF NOT EXISTS connections (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        strategy TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS connection_clients (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        connection_id TEXT NOT NULL REFERENCES connections (id),
        client_id TEXT NOT NULL,
        UNIQUE (connection_id, client_id)
    )""",
    "CREATE INDEX IF NOT EXISTS connection_clients_by_client ON connection_clients (client_id)",
)


class TenantStore:
    """One connection to the SQLite file at ``path`` (or ``":memory:"``), shared by threads."""

    def __init__(self, path: str, *, busy_timeout: float, limits: EntityLimits = NO_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        if path != MEMORY:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"cannot create the directory for the registry {path}: {exc.strerror}"
                ) from exc
        with self._sqlite_errors():
            connection = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                connection.close()
                raise
            self._connection = connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[TenantRows]:
        """One transaction under the connection lock; writes take SQLite's write lock first."""
        with self._lock, self._sqlite_errors():
            connection = self._connection
            if connection is None:
                raise RegistryError(f"the registry {self.path} is closed")
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield TenantRows(connection, self.path, self.limits)
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


class TenantRows:
    """The tenant's rows as one transaction reads and writes them, as JSON objects."""

    def __init__(
        self, connection: sqlite3.Connection, path: str, limits: EntityLimits = NO_LIMITS
    ) -> None:
        self._connection = connection
        self._path = path
        self._limits = limits

    # -- the file ---------------------------------------------------------------------------

    def create_schema(self) -> bool:
        """Create the tables that are missing; True for a new file (no schema version yet).

        Refuses a file written with a newer schema than this reconciler reads.
        """
        for statement in _SCHEMA:
            self._connection.execute(statement)
        row = self._connection.execute(
            "SELECT value FROM tenant_meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            return True
        if int(row[0]) > SCHEMA_VERSION:
            raise RegistryError(
                f"the registry {self._path} was written by a newer reconciler "
                f"(schema {row[0]}; this one reads {SCHEMA_VERSION})"
            )
        return False

    def start_new_file(self, signing_key: JsonObject) -> None:
        """Record the schema version and the tenant's signing key in a new file."""
        self._connection.executemany(
            "INSERT INTO tenant_meta (key, value) VALUES (?, ?)",
            [("schema_version", str(SCHEMA_VERSION)), ("signing_key", _encode(signing_key))],
        )

    def signing_key(self) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT value FROM tenant_meta WHERE key = 'signing_key'"
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def tenant_settings(self) -> JsonObject:
        """The settings changed from their defaults (Auth0's ``/tenants/settings``)."""
        row = self._connection.execute(
            "SELECT value FROM tenant_meta WHERE key = 'tenant_settings'"
        ).fetchone()
        return {} if row is None else self._decode(row[0])

    def set_tenant_settings(self, settings: JsonObject) -> None:
        self._connection.execute(
            "INSERT INTO tenant_meta (key, value) VALUES ('tenant_settings', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_encode(settings),),
        )

    def delete_everything(self) -> None:
        self._connection.execute("DELETE FROM tenant_meta WHERE key = 'tenant_settings'")
        self._connection.execute("DELETE FROM connection_clients")
        self._connection.execute("DELETE FROM connections")
        self._connection.execute("DELETE FROM client_grants")
        self._connection.execute("DELETE FROM resource_servers")
        self._connection.execute("DELETE FROM credentials")
        self._connection.execute("DELETE FROM clients")

    # -- clients ----------------------------------------------------------------------------

    def clients_matching(self, query: ClientQuery, *, offset: int) -> list[JsonObject]:
        """One page of the clients ``query`` filters for, in creation order."""
        where, parameters = _client_filter(query)
        rows = self._connection.execute(
            CLIENT_PAGE.format(where=where),
            [*parameters, query.per_page, min(offset, _MAX_OFFSET)],
        ).fetchall()
        return [self._decode(body) for (body,) in rows]

    def count_matching(self, query: ClientQuery) -> int:
        where, parameters = _client_filter(query)
        row = self._connection.execute(f"SELECT COUNT(*) FROM clients{where}", parameters)
        return int(row.fetchone()[0])

    def clients_after(
        self, seq: int, *, include_global: bool, limit: int
    ) -> list[tuple[int, JsonObject]]:
        """Up to ``limit`` clients created after the one at ``seq``, in creation order,
        each with its own ``seq``."""
        kind = "" if include_global else " AND is_global = 0"
        rows = self._connection.execute(
            f"SELECT seq, body FROM clients WHERE seq > ?{kind} ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        clients = self._decode_all([body for _, body in rows])
        return [(int(at), client) for (at, _), client in zip(rows, clients, strict=True)]

    def client(self, client_id: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM clients WHERE client_id = ?", (client_id,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def client_by_external_id(self, url: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM clients WHERE external_client_id = ?", (url,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def insert_client(self, client: JsonObject) -> None:
        self._connection.execute(
            "INSERT INTO clients (client_id, is_global, external_client_id, is_first_party,"
            " app_type, body) VALUES (?, ?, ?, ?, ?, ?)",
            (client["client_id"], int(bool(client.get("global"))), *_indexed(client)),
        )
        if not client.get("global"):
            self._within_limit("applications", "clients WHERE is_global = 0")

    def update_client(self, client: JsonObject) -> None:
        self._connection.execute(
            "UPDATE clients SET external_client_id = ?, is_first_party = ?, app_type = ?,"
            " body = ? WHERE client_id = ?",
            (*_indexed(client), client["client_id"]),
        )

    def delete_client(self, client_id: str) -> None:
        """The client, its credentials, its grants and its place among connections' clients."""
        self._connection.execute("DELETE FROM credentials WHERE client_id = ?", (client_id,))
        self._connection.execute("DELETE FROM client_grants WHERE grantee = ?", (client_id,))
        self._connection.execute("DELETE FROM connection_clients WHERE client_id = ?", (client_id,))
        self._connection.execute("DELETE FROM clients WHERE client_id = ?", (client_id,))

    # -- credentials ------------------------------------------------------------------------

    def credentials(self, client_id: str) -> list[JsonObject]:
        """The client's stored credentials, in creation order."""
        rows = self._connection.execute(
            "SELECT body FROM credentials WHERE client_id = ? ORDER BY seq", (client_id,)
        ).fetchall()
        return [self._decode(body) for (body,) in rows]

    def credential(self, client_id: str, credential_id: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM credentials WHERE client_id = ? AND credential_id = ?",
            (client_id, credential_id),
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def credential_types(self, client_id: str) -> dict[str, str]:
        """Each of the client's credential ids, with its ``credential_type``."""
        rows = self._connection.execute(
            "SELECT credential_id, body FROM credentials WHERE client_id = ?", (client_id,)
        ).fetchall()
        return {
            credential_id: str(self._decode(body).get("credential_type"))
            for credential_id, body in rows
        }

    def insert_credential(self, client_id: str, stored: JsonObject) -> None:
        if not self._limits.credentials:
            raise credentials_not_in_plan(str(self._limits.plan))
        self._connection.execute(
            "INSERT INTO credentials (credential_id, client_id, body) VALUES (?, ?, ?)",
            (stored["id"], client_id, _encode(stored)),
        )
        self._within_limit("credentials", "credentials")

    def update_credential(self, credential_id: str, stored: JsonObject) -> None:
        self._connection.execute(
            "UPDATE credentials SET body = ? WHERE credential_id = ?",
            (_encode(stored), credential_id),
        )

    def delete_credential(self, client_id: str, credential_id: str) -> None:
        self._connection.execute(
            "DELETE FROM credentials WHERE client_id = ? AND credential_id = ?",
            (client_id, credential_id),
        )

    # -- resource servers (APIs) -------------------------------------------------------------

    def resource_servers(
        self, identifiers: tuple[str, ...], *, offset: int, limit: int
    ) -> tuple[list[JsonObject], int]:
        """One page of the APIs (those with these identifiers, if any), and how many match."""
        where = f" WHERE identifier IN ({', '.join('?' * len(identifiers))})" if identifiers else ""
        rows = self._connection.execute(
            f"SELECT body FROM resource_servers{where} ORDER BY seq LIMIT ? OFFSET ?",
            [*identifiers, limit, min(offset, _MAX_OFFSET)],
        ).fetchall()
        total = self._connection.execute(
            f"SELECT COUNT(*) FROM resource_servers{where}", identifiers
        ).fetchone()[0]
        return [self._decode(body) for (body,) in rows], int(total)

    def resource_server(self, server_id: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM resource_servers WHERE id = ? OR identifier = ?",
            (server_id, server_id),
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def insert_resource_server(self, server: JsonObject) -> bool:
        """False when an API with this identifier exists (nothing is written)."""
        inserted = self._connection.execute(
            "INSERT INTO resource_servers (id, identifier, body) VALUES (?, ?, ?)"
            " ON CONFLICT (identifier) DO NOTHING",
            (server["id"], server["identifier"], _encode(server)),
        )
        if inserted.rowcount != 1:
            return False
        self._within_limit("resource_servers", "resource_servers")
        return True

    def update_resource_server(self, server: JsonObject) -> None:
        self._connection.execute(
            "UPDATE resource_servers SET body = ? WHERE id = ?", (_encode(server), server["id"])
        )

    def delete_resource_server(self, server_id: str) -> None:
        self._connection.execute("DELETE FROM resource_servers WHERE id = ?", (server_id,))

    # -- client grants ----------------------------------------------------------------------

    def client_grants(
        self, filters: Mapping[str, str], *, after: int, offset: int, limit: int
    ) -> tuple[list[tuple[int, JsonObject]], int]:
        """One page of the grants the ``filters`` columns select, in creation order, each
        with its position (for a checkpoint), and how many match in all."""
        conditions = [f"{column} = ?" for column in filters]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._connection.execute(
            f"SELECT seq, body FROM client_grants{where}"
            f"{' AND' if where else ' WHERE'} seq > ? ORDER BY seq LIMIT ? OFFSET ?",
            [*filters.values(), after, limit, min(offset, _MAX_OFFSET)],
        ).fetchall()
        total = self._connection.execute(
            f"SELECT COUNT(*) FROM client_grants{where}", list(filters.values())
        ).fetchone()[0]
        return [(seq, self._decode(body)) for seq, body in rows], int(total)

    def client_grant(self, grant_id: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM client_grants WHERE id = ?", (grant_id,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def client_grant_for(self, grantee: str, audience: str, subject_type: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM client_grants WHERE grantee = ? AND audience = ?"
            " AND subject_type = ?",
            (grantee, audience, subject_type),
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def insert_client_grant(self, grantee: str, subject_type: str, grant: JsonObject) -> bool:
        """False when the grantee has a grant for this audience and subject type."""
        inserted = self._connection.execute(
            "INSERT INTO client_grants (id, grantee, audience, subject_type, body)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (grantee, audience, subject_type) DO NOTHING",
            (grant["id"], grantee, grant["audience"], subject_type, _encode(grant)),
        )
        if inserted.rowcount != 1:
            return False
        self._within_limit("client_grants", "client_grants")
        return True

    def update_client_grant(self, grant: JsonObject) -> None:
        self._connection.execute(
            "UPDATE client_grants SET body = ? WHERE id = ?", (_encode(grant), grant["id"])
        )

    def delete_client_grant(self, grant_id: str) -> None:
        self._connection.execute("DELETE FROM client_grants WHERE id = ?", (grant_id,))

    # -- connections ------------------------------------------------------------------------

    def connections(
        self, filters: Mapping[str, str], *, after: int, offset: int, limit: int
    ) -> tuple[list[tuple[int, JsonObject]], int]:
        """Like ``client_grants``, for connections (filtered by name or strategy)."""
        conditions = [f"{column} = ?" for column in filters]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._connection.execute(
            f"SELECT seq, body FROM connections{where}"
            f"{' AND' if where else ' WHERE'} seq > ? ORDER BY seq LIMIT ? OFFSET ?",
            [*filters.values(), after, limit, min(offset, _MAX_OFFSET)],
        ).fetchall()
        total = self._connection.execute(
            f"SELECT COUNT(*) FROM connections{where}", list(filters.values())
        ).fetchone()[0]
        return [(seq, self._decode(body)) for seq, body in rows], int(total)

    def connection(self, connection_id: str) -> JsonObject | None:
        row = self._connection.execute(
            "SELECT body FROM connections WHERE id = ?", (connection_id,)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def insert_connection(self, connection: JsonObject) -> bool:
        """False when a connection with this name exists (nothing is written)."""
        inserted = self._connection.execute(
            "INSERT INTO connections (id, name, strategy, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (connection["id"], connection["name"], connection["strategy"], _encode(connection)),
        )
        if inserted.rowcount != 1:
            return False
        self._within_limit("connections", "connections")
        return True

    def connection_clients(
        self, connection_id: str, *, after: int, limit: int
    ) -> list[tuple[int, str]]:
        """The connection's enabled clients after position ``after``, in the order enabled."""
        rows = self._connection.execute(
            "SELECT seq, client_id FROM connection_clients WHERE connection_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (connection_id, after, limit),
        ).fetchall()
        return [(int(seq), str(client_id)) for seq, client_id in rows]

    def enable_client(self, connection_id: str, client_id: str) -> None:
        self._connection.execute(
            "INSERT INTO connection_clients (connection_id, client_id) VALUES (?, ?)"
            " ON CONFLICT (connection_id, client_id) DO NOTHING",
            (connection_id, client_id),
        )

    def disable_client(self, connection_id: str, client_id: str) -> None:
        self._connection.execute(
            "DELETE FROM connection_clients WHERE connection_id = ? AND client_id = ?",
            (connection_id, client_id),
        )

    def _within_limit(self, entity: str, rows: str) -> None:
        """Refuse the insert just made (raising rolls it back) if ``rows`` now exceed
        the limit on ``entity``."""
        most = self._limits.limit(entity)
        if most is None:
            return
        held = self._connection.execute(f"SELECT COUNT(*) FROM {rows}").fetchone()[0]
        if int(held) > most:
            raise too_many_entities()

    def _decode_all(self, texts: list[str]) -> list[JsonObject]:
        """Many records decoded as one JSON array, so that each member name is one string
        shared by all of them (the decoder keeps one copy of each name per document), not
        one copy per record: the bulk of a large tenant's memory otherwise."""
        try:
            values: list[Any] = json.loads("[" + ",".join(texts) + "]")
        except json.JSONDecodeError:
            return [self._decode(text) for text in texts]  # says which one is damaged
        if len(values) != len(texts) or not all(isinstance(value, dict) for value in values):
            return [self._decode(text) for text in texts]
        return values

    def _decode(self, text: str) -> JsonObject:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"the registry {self._path} holds a damaged record: {exc}") from exc
        if not isinstance(value, dict):
            raise RegistryError(f"the registry {self._path} holds a damaged record")
        return value


def _client_filter(query: ClientQuery) -> tuple[str, list[object]]:
    """The WHERE clause (empty for none) that selects the clients ``query`` filters for."""
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
    return where, parameters


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


def _encode(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
