"""A Registry over an Auth0-shaped clients API: the embedded tenant or the real one.

``ClientsApi`` is the handful of Management API calls the reconciler needs, in Auth0's
JSON shapes. The embedded ``Tenant`` implements it in-process; the Auth0 backend
implements it over HTTP. ``ClientsRegistry`` translates between canonical fields and
Auth0 client objects once, for both, and between client grants, resource servers and
connections and their canonical values (``Grant``, ``Api``, ``LoginConnection``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from reconciler.core.cimd_fields import DOCUMENT_FIELDS, mapped_fields
from reconciler.core.fields import MANAGED_FIELDS, PARTIAL_OBJECTS
from reconciler.core.keys import (
    certificate_subject_dn,
    certificate_thumbprint,
    format_expiry,
    normal_thumbprint,
)
from reconciler.core.model import (
    CREDENTIAL_METHODS,
    CREDENTIAL_TYPE_FOR_METHOD,
    Api,
    ApiGrant,
    App,
    Credential,
    Grant,
    HeldCredential,
    LoginConnection,
    canonical,
    credential_identity,
)
from reconciler.core.rotation import REQUEST_SIGNING, Add, Enable, Ref, Remove, Renew, Rotation
from reconciler.core.stamp import STAMP_KEYS, Stamp
from reconciler.errors import ApiError, ConflictError, RegistryError
from reconciler.registries.base import CimdSupport, Created, Registry

__all__ = [
    "MAX_CLIENTS_PER_CONNECTION_PATCH",
    "READ_MEMBERS",
    "MAX_CREDENTIALS_PER_CLIENT",
    "UNHELD_BY_AUTH0",
    "ClientsApi",
    "ClientsRegistry",
    "app_from_client",
    "credential_body",
    "grant_from_record",
    "matching_credential",
]

#: Clients one PATCH /connections/{id}/clients may enable or disable (Auth0's bound).
MAX_CLIENTS_PER_CONNECTION_PATCH = 50
#: RFC 7591 client metadata an Auth0 client has no member for.
UNHELD_BY_AUTH0 = frozenset({"client_uri", "policy_uri", "tos_uri", "contacts"})
#: Auth0's tenant setting that lets a tenant register Client ID Metadata Documents.
CIMD_SUPPORTED = "client_id_metadata_document_supported"
_AUTH0_CIMD_SETTING = 'Dashboard: Settings > Advanced > "Client ID Metadata Document Registration"'
_LOCK_NAME = "reconciler.lock"
#: Credentials Auth0 keeps for one client at once, enabled or not ("Applications can have a
#: maximum of two credentials configured", configure-private-key-jwt.mdx).
MAX_CREDENTIALS_PER_CLIENT = 2
#: Members Auth0 refuses on PATCH although it returns them.
_READ_ONLY_MEMBERS = {"jwt_configuration": {"secret_encoded"}}
_JAR = "signed_request_object"
#: The most members a client_metadata object may have (go-auth0 ``clients.go``,
#: ClientMetadata: "up to 10 properties"), taken to hold for a PATCH body too.
METADATA_MEMBERS = 10
#: Client members other than the authentication methods that point at credentials.
_OTHER_CREDENTIAL_USES = (_JAR, "token_vault_privileged_access")
#: Older names some tenants still answer with, for the field of today's name: older
#: tenants return ``cross_origin_auth`` (go-auth0 recording TestClient_List, January
#: 2023), which auth0-deploy-cli renames too (handlers/clients.ts:510-535).
_LEGACY_ALIASES = {"cross_origin_auth": "cross_origin_authentication"}
#: The client members a read asks for (Auth0's ``fields``): what ``app_from_client`` makes
#: the fields, stamp, identity and credentials of an App of, and what is read of
#: ``App.record`` after (``jwks_uri`` by the CIMD drift check, ``third_party_security_mode``
#: by export). The rest of a client (``signing_keys`` alone is most of its bytes) is never
#: compared.
READ_MEMBERS = frozenset(
    {
        *(n for n in MANAGED_FIELDS if n != "credentials" and n not in UNHELD_BY_AUTH0),
        *DOCUMENT_FIELDS,
        *_OTHER_CREDENTIAL_USES,
        *_LEGACY_ALIASES,
        "client_authentication_methods",
        "client_id",
        "global",
        "external_client_id",
        "third_party_security_mode",
    }
)


class ClientsApi(Protocol):
    def all_clients(self) -> Iterable[dict[str, Any]]: ...

    def create_client(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def patch_client(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_client(self, client_id: str) -> None: ...

    def get_client(self, client_id: str) -> dict[str, Any]: ...

    def rotate_secret(self, client_id: str) -> dict[str, Any]: ...

    def list_credentials(self, client_id: str) -> list[dict[str, Any]]: ...

    def create_credential(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /clients/{id}/credentials; never leaves two credentials for one body, as
        Auth0 keeps two per client at most (``matching_credential``)."""

    def patch_credential(
        self, client_id: str, credential_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PATCH /clients/{id}/credentials/{id}: only ``expires_at`` changes."""

    def delete_credential(self, client_id: str, credential_id: str) -> None: ...

    def cimd_register(self, url: str, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The client registered or refreshed for ``url``, and whether it was created."""

    def tenant_settings(self) -> dict[str, Any]:
        """The tenant's settings (GET /tenants/settings)."""

    def all_client_grants(self) -> list[dict[str, Any]]:
        """Every client grant, in one paged pass."""

    def create_client_grant(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def patch_client_grant(self, grant_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_client_grant(self, grant_id: str) -> None: ...

    def all_resource_servers(self) -> list[dict[str, Any]]:
        """Every resource server (API), in one paged pass."""

    def all_connections(self) -> list[dict[str, Any]]:
        """Every connection, each with ``enabled_clients``: the ids of the clients it is
        enabled for (read page by page from /connections/{id}/clients)."""

    def patch_connection_clients(self, connection_id: str, changes: list[dict[str, Any]]) -> None:
        """One PATCH /connections/{id}/clients of ``{client_id, status}`` items."""

    def close(self) -> None: ...


class ClientsRegistry(Registry):
    """The Registry over a ClientsApi."""

    unheld_fields = UNHELD_BY_AUTH0
    #: Whether it may be read on another thread while the manifests load (an API over
    #: HTTP may; the embedded tenant's database connection belongs to its thread).
    reads_in_background = False

    def __init__(
        self,
        api: ClientsApi,
        uri: str,
        *,
        lock: Callable[[], AbstractContextManager[None]] | None = None,
        before_write: Callable[[], None] = lambda: None,
        hidden_client_ids: Sequence[str] = (),
        hidden_api_identifiers: Sequence[str] = (),
        cimd_setting_hint: str = _AUTH0_CIMD_SETTING,
    ) -> None:
        """``before_write`` runs before every write and raises to stop it (a lost lease);
        the hidden clients and APIs are the reconciler's own (its management client, its
        apply lease), never listed."""
        self.api = api
        self.uri = uri
        self._lock = lock
        self._before_write = before_write
        self._hidden = set(hidden_client_ids)
        self._hidden_apis = set(hidden_api_identifiers)
        #: Where the tenant setting that allows CIMD registrations is turned on.
        self._cimd_setting_hint = cimd_setting_hint

    @property
    def hidden_client_ids(self) -> frozenset[str]:
        """The clients never listed: the reconciler's own (its management client)."""
        return frozenset(self._hidden)

    def list_apps(self) -> list[App]:
        """Every client but the hidden ones, with the credentials of those that hold any
        where the registry lets them be read: a token without that right reads apps
        without keys (a run that manages keys asks for it first, ``pipeline/needs.py``),
        rather than failing on an unmanaged app's keys. Each client becomes an App as it
        arrives (the embedded tenant streams them); only those whose keys are read wait
        for them, read together at the end."""
        readable = self.credentials_readable()
        apps: list[App | None] = []
        keyed: dict[int, dict[str, Any]] = {}
        for client in self._read_clients():
            if client.get("global") or client.get("client_id") in self._hidden:
                continue
            if readable and _has_credentials(client):
                keyed[len(apps)] = client
                apps.append(None)
            else:
                apps.append(app_from_client(client, None))
        ids = [str(client["client_id"]) for client in keyed.values()]
        for (index, client), listed in zip(keyed.items(), self._read_credentials(ids), strict=True):
            apps[index] = app_from_client(client, listed)
        return [app for app in apps if app is not None]

    def stop_reading(self) -> None:
        """End a read under way on another thread at its next request (that thread then
        closes the registry); one that reads only on its own thread has none to end."""

    def _read_clients(self) -> Iterable[dict[str, Any]]:
        """Every client, with at least the members ``READ_MEMBERS`` names."""
        return self.api.all_clients()

    def _read_credentials(self, client_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Each client's credentials, in order."""
        return [self.api.list_credentials(client_id) for client_id in client_ids]

    def credentials_readable(self) -> bool:
        """Whether the registry lets this run list an app's credentials."""
        return True

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        self._before_write()
        body = _writable(fields)
        body["client_metadata"] = {
            **dict(fields.get("client_metadata") or {}),
            **stamp.to_metadata(),
        }
        method = fields.get("token_endpoint_auth_method")
        if method in CREDENTIAL_METHODS:
            body.pop("token_endpoint_auth_method")
            body["jwt_configuration"] = _rs256(body.get("jwt_configuration"))
            body["client_authentication_methods"] = {
                method: {"credentials": [credential_body(c) for c in credentials]}
            }
        request_object = body.get(_JAR)
        if isinstance(request_object, dict) and "credentials" in request_object:
            keys: Sequence[Credential] = request_object["credentials"]
            body[_JAR] = {
                **request_object,
                "credentials": [credential_body(credential) for credential in keys],
            }
        client = self.api.create_client(body)
        secret = client.get("client_secret")
        if method is None or method == "none" or method in CREDENTIAL_METHODS:
            secret = None
        return Created(self._reread(client), secret if isinstance(secret, str) else None)

    def update(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App:
        self._before_write()
        body = _writable({k: v for k, v in changes.items() if k not in PARTIAL_OBJECTS})
        for name in PARTIAL_OBJECTS & changes.keys():
            merged = _merged(current.record.get(name), changes[name])
            body[name] = {
                k: v for k, v in merged.items() if k not in _READ_ONLY_MEMBERS.get(name, ())
            }
        body["client_metadata"] = self._metadata_patch(current, changes, stamp)
        method_before = current.fields.get("token_endpoint_auth_method")
        method_after = changes.get("token_endpoint_auth_method", method_before)
        retired: Sequence[HeldCredential] = ()
        retired_for_requests: list[str] = []
        if method_after in CREDENTIAL_METHODS:
            body.pop("token_endpoint_auth_method", None)
            if "credentials" in changes or method_before != method_after:
                final, retired = self._rotate(current, changes.get("credentials", ()), method_after)
                body["client_authentication_methods"] = {
                    method_after: {"credentials": [{"id": i} for i in final]}
                }
            if method_before not in CREDENTIAL_METHODS:
                body["token_endpoint_auth_method"] = None
                body["jwt_configuration"] = _rs256(
                    body.get("jwt_configuration") or current.record.get("jwt_configuration")
                )
        elif method_before in CREDENTIAL_METHODS:
            body["client_authentication_methods"] = None
            retired = current.credentials
        if isinstance(body.get(_JAR), dict) and "credentials" in changes[_JAR]:
            body[_JAR], retired_for_requests = self._request_object_keys(current, body[_JAR])
        metadata = body["client_metadata"]
        if len(metadata) > METADATA_MEMBERS:
            # The members removed go first, in a PATCH of their own: the stamp comes with
            # the rest, so a run cut off in between is planned again from the old stamp.
            self._before_write()
            removed = {name: None for name, value in metadata.items() if value is None}
            self.api.patch_client(current.client_id, {"client_metadata": removed})
            body["client_metadata"] = {k: v for k, v in metadata.items() if v is not None}
        self._before_write()
        client = self.api.patch_client(current.client_id, body)
        for credential_id in [c.id for c in retired] + retired_for_requests:
            self._before_write()
            self.api.delete_credential(current.client_id, credential_id)
        return self._reread(client)

    def delete(self, current: App) -> None:
        self._before_write()
        self.api.delete_client(current.client_id)

    def read_secret(self, current: App) -> str | None:
        """The secret as the registry shows it: None without read:client_keys (Auth0 then
        leaves ``client_secret`` out of the answer, or answers 403)."""
        try:
            client = self.api.get_client(current.client_id)
        except ApiError as exc:
            if exc.status == 403:
                return None
            raise
        secret = client.get("client_secret")
        return secret if isinstance(secret, str) and secret else None

    def rotate_secret(self, current: App) -> str:
        """POST rotate-secret (update:client_keys): the old secret stops working at once."""
        self._before_write()
        client = self.api.rotate_secret(current.client_id)
        secret = client.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise RegistryError(
                f"rotating the secret of {current.client_id} answered no client_secret"
            )
        return secret

    def register_cimd(self, url: str, document: Mapping[str, Any], current: App | None) -> App:
        """Register ``url``, then check the client against ``document``, the one the plan
        reviewed: Auth0 registers the document it fetches itself, which may have changed
        since. A client it made from another document is deleted again; one it refreshed
        from another cannot be put back, and the change fails saying so."""
        self._before_write()
        client, made = self.api.cimd_register(url, dict(document))
        # Made by this run when there was none before, whatever the answer's status says:
        # a register sent again after its first answer was lost is answered as a refresh.
        created = made or current is None
        differences = _unreviewed_document_fields(url, document, client)
        if differences:
            if created:
                self.api.delete_client(str(client["client_id"]))
            outcome = (
                "the client it made was deleted again"
                if created
                else "the client now holds them: review the document (`plan --locked` "
                f"refuses it until {_LOCK_NAME} is updated with `reconciler lock`)"
            )
            raise RegistryError(
                f"{url}: the registry registered the document it fetched now, which differs "
                f"from the reviewed one in {', '.join(differences)}; {outcome}"
            )
        return self._reread(client)

    def cimd_support(self) -> CimdSupport:
        """Auth0's tenant setting ``client_id_metadata_document_supported``; a token
        without read:tenant_settings cannot tell."""
        try:
            settings = self.api.tenant_settings()
        except ApiError as exc:
            if exc.status != 403:
                raise
            return CimdSupport(
                None,
                f"{self.uri}: cannot read the tenant settings to check that CIMD apps may be "
                f"registered ({exc.message}): grant the management client read:tenant_settings",
            )
        if settings.get(CIMD_SUPPORTED) is True:
            return CimdSupport()
        return CimdSupport(
            False,
            f"{self.uri} does not register Client ID Metadata Documents: turn on the tenant "
            f"setting {CIMD_SUPPORTED} ({self._cimd_setting_hint})",
        )

    def list_grants(self) -> list[Grant]:
        return [
            grant_from_record(record)
            for record in self.api.all_client_grants()
            if record.get("client_id") not in self._hidden
        ]

    def list_apis(self) -> list[Api]:
        return [
            Api(
                identifier=str(server["identifier"]),
                scopes=_sorted_unique(scope.get("value") for scope in server.get("scopes") or []),
            )
            for server in self.api.all_resource_servers()
            if not server.get("is_system") and server.get("identifier") not in self._hidden_apis
        ]

    def list_connections(self) -> list[LoginConnection]:
        return [
            LoginConnection(
                id=str(connection["id"]),
                name=str(connection["name"]),
                enabled_clients=_sorted_unique(connection.get("enabled_clients") or ()),
            )
            for connection in self.api.all_connections()
        ]

    def create_grant(
        self, wanted: ApiGrant, *, client_id: str | None = None, default_for: str | None = None
    ) -> Grant:
        if (client_id is None) == (default_for is None):
            raise ValueError("a grant is for a client_id or a default_for group, one of them")
        self._before_write()
        body: dict[str, Any] = (
            {"client_id": client_id} if client_id is not None else {"default_for": default_for}
        )
        body.update(
            audience=wanted.audience,
            scope=list(wanted.scopes),
            subject_type=wanted.subject_type,
            **_organization_members(wanted),
        )
        try:
            return grant_from_record(self.api.create_client_grant(body))
        except ApiError as exc:
            if exc.status != 409:
                raise
            return self._adopt_grant(wanted, client_id, default_for, exc)

    def _adopt_grant(
        self, wanted: ApiGrant, client_id: str | None, default_for: str | None, refused: ApiError
    ) -> Grant:
        """The grant a create was refused for (409) when it is the one asked for: a create
        sent again after its answer was lost. One full read, as this happens rarely."""
        for grant in self.list_grants():
            same_grantee = (grant.client_id, grant.default_for) == (client_id, default_for)
            if same_grantee and grant.key == wanted.key:
                if grant.scopes == wanted.scopes:
                    return grant
                raise ConflictError(
                    f"{client_id or default_for} already has a grant for {wanted.audience} "
                    f"with other scopes ({', '.join(grant.scopes) or 'none'}): it appeared "
                    "after the plan read the registry; plan again"
                ) from refused
        raise refused

    def update_grant(self, current: Grant, wanted: ApiGrant) -> Grant:
        body: dict[str, Any] = {}
        if current.scopes != wanted.scopes:
            body["scope"] = list(wanted.scopes)
        for name, value in _organization_members(wanted).items():
            if getattr(current, name) != value:
                body[name] = value
        if not body:
            return current
        self._before_write()
        return grant_from_record(self.api.patch_client_grant(current.id, body))

    def delete_grant(self, current: Grant) -> None:
        self._before_write()
        self.api.delete_client_grant(current.id)

    def update_connection_clients(
        self,
        connection: LoginConnection,
        *,
        enable: Sequence[str] = (),
        disable: Sequence[str] = (),
    ) -> None:
        changes = [{"client_id": client_id, "status": True} for client_id in enable]
        changes += [{"client_id": client_id, "status": False} for client_id in disable]
        for start in range(0, len(changes), MAX_CLIENTS_PER_CONNECTION_PATCH):
            self._before_write()
            batch = changes[start : start + MAX_CLIENTS_PER_CONNECTION_PATCH]
            self.api.patch_connection_clients(connection.id, batch)

    def lock(self) -> AbstractContextManager[None]:
        return self._lock() if self._lock is not None else _no_lock()

    def close(self) -> None:
        self.api.close()

    def _reread(self, client: dict[str, Any]) -> App:
        credentials = None
        if _has_credentials(client):
            credentials = self.api.list_credentials(client["client_id"])
        return app_from_client(client, credentials)

    def _metadata_patch(
        self, current: App, changes: Mapping[str, Any], stamp: Stamp
    ) -> dict[str, Any]:
        patch: dict[str, Any] = dict(stamp.to_metadata())
        if "client_metadata" in changes:
            wanted = dict(changes["client_metadata"] or {})
            present = current.fields.get("client_metadata") or {}
            patch.update({name: None for name in present if name not in wanted})
            patch.update(wanted)
        return patch

    def _request_object_keys(
        self, current: App, wanted: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """``signed_request_object`` to PATCH, its keys as ids, and the ids of the keys it
        had that are no longer wanted, to delete once the PATCH has let go of them. The keys
        move as the authentication credentials do (``core/rotation.py``), within what the
        client's other credentials leave of Auth0's limit, read now: at the limit a retired
        key goes first, and the client keeps a key at every step."""
        listed = self.api.list_credentials(current.client_id)
        held = _request_object_held(current.record, {str(c["id"]): c for c in listed})
        keys: Sequence[Credential] = wanted["credentials"]
        rotation = Rotation.between(
            held,
            [key.summary() for key in keys],
            limit=MAX_CREDENTIALS_PER_CLIENT - (len(listed) - len(held)),
            in_use=True,
            use=REQUEST_SIGNING,
        )
        if rotation.impossible:
            raise ConflictError(f"{current.client_id}: {rotation.impossible}")
        members = {k: v for k, v in wanted.items() if k != "credentials"}

        def point_at(ids: list[str]) -> None:
            refs = [{"id": i} for i in ids]
            self.api.patch_client(current.client_id, {_JAR: {**members, "credentials": refs}})

        final = self._run_rotation(current.client_id, rotation, keys, point_at)
        retired = [credential.id for credential in rotation.retired]
        return {**wanted, "credentials": [{"id": i} for i in final]}, retired

    def _rotate(
        self, current: App, wanted: Sequence[Credential], method: str
    ) -> tuple[list[str], Sequence[HeldCredential]]:
        """Run the steps that bring ``current`` to the ``wanted`` credentials within Auth0's
        limit (``core/rotation.py``); return the ids to switch ``method`` to, and the held
        credentials to remove once it has switched."""
        method_before = current.fields.get("token_endpoint_auth_method")
        held = current.credentials
        limit = current.credential_limit
        if method_before not in CREDENTIAL_METHODS:
            # Credentials the client keeps without using them count against the limit too.
            foreign = _foreign_credentials(current.record)
            listed = self.api.list_credentials(current.client_id)
            held = tuple(_held(c, enabled=False) for c in listed if str(c["id"]) not in foreign)
            limit = MAX_CREDENTIALS_PER_CLIENT - len(foreign)
        rotation = Rotation.between(
            held,
            [c.summary() for c in wanted],
            limit=limit,
            in_use=method_before == method,
        )
        if rotation.impossible:
            raise ConflictError(f"{current.client_id}: {rotation.impossible}")

        def point_at(ids: list[str]) -> None:
            assert isinstance(method_before, str)
            refs = [{"id": i} for i in ids]
            self.api.patch_client(
                current.client_id,
                {"client_authentication_methods": {method_before: {"credentials": refs}}},
            )

        return self._run_rotation(current.client_id, rotation, wanted, point_at), rotation.retired

    def _run_rotation(
        self,
        client_id: str,
        rotation: Rotation,
        wanted: Sequence[Credential],
        point_at: Callable[[list[str]], None],
    ) -> list[str]:
        """Run ``rotation``'s steps, ``point_at`` switching whatever uses the credentials;
        return the ids of its ``final`` credentials."""
        by_name = {credential.name: credential for credential in wanted}
        added: dict[str, str] = {}

        def ids(refs: Sequence[Ref]) -> list[str]:
            return [ref.id if ref.id is not None else added[ref.name] for ref in refs]

        for step in rotation.steps:
            self._before_write()
            if isinstance(step, Renew):
                self.api.patch_credential(
                    client_id, step.credential.id, {"expires_at": step.expires_at}
                )
            elif isinstance(step, Remove):
                self.api.delete_credential(client_id, step.credential.id)
            elif isinstance(step, Add):
                body = credential_body(by_name[step.name])
                added[step.name] = str(self.api.create_credential(client_id, body)["id"])
            elif isinstance(step, Enable):
                point_at(ids(step.credentials))
        return ids(rotation.final)


def app_from_client(client: Mapping[str, Any], credentials: list[dict[str, Any]] | None) -> App:
    """The canonical view of an Auth0 client object (and its credentials, if listed)."""
    metadata: Mapping[str, Any] = client.get("client_metadata") or {}
    fields: dict[str, Any] = {
        name: client[name]
        for name in MANAGED_FIELDS
        if name in client and name != "client_metadata"
    }
    for legacy, name in _LEGACY_ALIASES.items():
        if legacy in client and name not in client:
            fields[name] = client[legacy]
    fields["client_metadata"] = {k: v for k, v in metadata.items() if k not in STAMP_KEYS}
    method = _credential_method(client)
    held: tuple[HeldCredential, ...] = ()
    foreign = _foreign_credentials(client)
    if method is not None:
        fields["token_endpoint_auth_method"] = method
        references = client["client_authentication_methods"][method].get("credentials") or []
        enabled = {str(reference.get("id")) for reference in references}
        held = tuple(
            _held(credential, enabled=str(credential["id"]) in enabled)
            for credential in credentials or []
            if str(credential.get("id")) not in foreign
        )
        summaries = [dict(credential.summary) for credential in held]
        fields["credentials"] = sorted(summaries, key=lambda c: str(c["name"]))
    for_requests = _request_object_ids(client)
    listed = {str(c["id"]): c for c in credentials or []}
    if for_requests:
        fields[_JAR] = {
            **client[_JAR],
            "credentials": sorted(
                (_summary(listed[i]) for i in for_requests if i in listed),
                key=lambda c: str(c["name"]),
            ),
        }
    record = {
        k: v
        for k, v in client.items()
        if k not in ("client_secret", "signing_keys", "encryption_key")
    }
    return App(
        client_id=str(client["client_id"]),
        fields=fields,
        stamp=Stamp.read(metadata),
        external_client_id=client.get("external_client_id"),
        record=record,
        credentials=held,
        credential_limit=MAX_CREDENTIALS_PER_CLIENT - len(foreign),
        request_object_credentials=_request_object_held(client, listed),
    )


def grant_from_record(record: Mapping[str, Any]) -> Grant:
    """The canonical view of an Auth0 client grant object."""
    usage = record.get("organization_usage")
    any_organization = record.get("allow_any_organization")
    client_id = record.get("client_id")
    default_for = record.get("default_for")
    return Grant(
        id=str(record["id"]),
        client_id=str(client_id) if client_id else None,
        audience=str(record["audience"]),
        scopes=_sorted_unique(record.get("scope") or ()),
        subject_type=str(record.get("subject_type") or "client"),
        organization_usage=str(usage) if usage is not None else None,
        allow_any_organization=bool(any_organization) if any_organization is not None else None,
        default_for=str(default_for) if default_for else None,
    )


def _organization_members(wanted: ApiGrant) -> dict[str, Any]:
    """The organization members ``wanted`` sets (None leaves them to the registry)."""
    members: dict[str, Any] = {}
    if wanted.organization_usage is not None:
        members["organization_usage"] = wanted.organization_usage
    if wanted.allow_any_organization is not None:
        members["allow_any_organization"] = wanted.allow_any_organization
    return members


def _sorted_unique(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(sorted({str(value) for value in values if value is not None}))


def _writable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in fields.items()
        if name in MANAGED_FIELDS and name not in ("credentials", "client_metadata")
    }


def credential_body(credential: Credential) -> dict[str, Any]:
    """The POST /clients/{id}/credentials body for ``credential``. A public key's kid is
    always sent (the default is the RFC 7638 thumbprint Auth0 would derive itself), so a
    credential whose answer was lost can be found again by it; a certificate subject goes
    as the certificate when the manifest gives one (Auth0's advice: "The most reliable way
    to guarantee that the authorization server will match the subject DN is to upload the
    whole PEM file", configure-mtls-for-a-client.mdx)."""
    body: dict[str, Any] = {"credential_type": credential.credential_type, "name": credential.name}
    if credential.credential_type == "cert_subject_dn" and not credential.pem:
        body["subject_dn"] = credential.subject_dn
        return body
    body["pem"] = credential.pem
    if credential.credential_type == "public_key":
        body.update(alg=credential.alg, kid=credential.kid)
        if credential.expires_at:
            body["expires_at"] = credential.expires_at
    return body


def matching_credential(
    listed: Iterable[Mapping[str, Any]], body: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The credential among ``listed`` that the POST of ``body`` made: the same type,
    name and material (a key's kid, a certificate's thumbprint, a subject DN), which no
    two credentials of one client share. None when the POST made none."""
    kind = str(body.get("credential_type", "public_key"))
    wanted: dict[str, Any] = {"name": body.get("name"), "credential_type": kind}
    if kind == "public_key":
        wanted["kid"] = body.get("kid")
    elif kind == "x509_cert":
        wanted["thumbprint_sha256"] = certificate_thumbprint(str(body.get("pem")))
    else:
        wanted["subject_dn"] = body.get("subject_dn") or certificate_subject_dn(str(body["pem"]))
    for credential in listed:
        summary = _summary(credential)
        if summary.get("name") == wanted["name"] and credential_identity(
            summary
        ) == credential_identity(wanted):
            return dict(credential)
    return None


def _summary(credential: Mapping[str, Any]) -> dict[str, Any]:
    """A registry credential as ``Credential.summary`` says one: its expiry in Auth0's
    spelling, a certificate's thumbprint as base64url, so neither shows as a change."""
    kind = str(credential.get("credential_type") or "public_key")
    summary: dict[str, Any] = {"name": credential.get("name")}
    if kind == "x509_cert":
        thumbprint = normal_thumbprint(str(credential.get("thumbprint_sha256") or ""))
        summary.update(credential_type=kind, thumbprint_sha256=thumbprint)
    elif kind == "cert_subject_dn":
        summary.update(credential_type=kind, subject_dn=credential.get("subject_dn"))
    else:
        summary.update(kid=credential.get("kid"), alg=credential.get("alg"))
        if credential.get("expires_at"):
            summary["expires_at"] = format_expiry(str(credential["expires_at"]))
    return summary


def _request_object_ids(client: Mapping[str, Any]) -> list[str]:
    """The ids of the keys that verify the client's signed authorization requests."""
    request_object = client.get(_JAR)
    references = request_object.get("credentials") if isinstance(request_object, dict) else None
    return [str(r["id"]) for r in references or [] if isinstance(r, dict) and "id" in r]


def _request_object_held(
    client: Mapping[str, Any], listed: Mapping[str, Mapping[str, Any]]
) -> tuple[HeldCredential, ...]:
    """The keys of the client's signed authorization requests, enabled; and, where it does
    not authenticate with credentials, each credential nothing points at (a key a run
    added and was cut off before switching to), not enabled: a rotation may take it up."""
    held = [_held(listed[i], enabled=True) for i in _request_object_ids(client) if i in listed]
    if _credential_method(client) is None:
        used = _foreign_credentials(client)
        held += [_held(c, enabled=False) for i, c in listed.items() if i not in used]
    return tuple(held)


def _has_credentials(client: Mapping[str, Any]) -> bool:
    """Whether the client has credentials to list (``read:client_credentials``)."""
    return _credential_method(client) is not None or bool(_request_object_ids(client))


def _merged(held: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """``wanted`` over the object the registry holds, member by member at every depth, so
    a member the manifest does not name keeps the registry's value (arrays replace)."""
    merged = dict(held) if isinstance(held, dict) else {}
    for member, value in wanted.items():
        found = merged.get(member)
        merged[member] = (
            _merged(found, value) if isinstance(value, dict) and isinstance(found, dict) else value
        )
    return merged


def _unreviewed_document_fields(
    url: str, document: Mapping[str, Any], client: Mapping[str, Any]
) -> list[str]:
    """The fields ``document`` gives that the registered ``client`` holds otherwise (a
    client with credentials authenticates by their method, whatever its
    token_endpoint_auth_method says)."""
    wanted = canonical(mapped_fields(url, document))
    held = canonical({name: client.get(name) for name in wanted})
    method = _credential_method(client)
    if method is not None:
        held["token_endpoint_auth_method"] = method
    return [name for name in DOCUMENT_FIELDS if name in wanted and held[name] != wanted[name]]


def _held(credential: Mapping[str, Any], *, enabled: bool) -> HeldCredential:
    return HeldCredential(str(credential["id"]), _summary(credential), enabled)


def _rs256(jwt_configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    """``jwt_configuration`` with the alg Auth0 requires of a client that authenticates
    with credentials: RS256 ("To configure client_authentication_methods, the property
    jwt_configuration.alg must be set to RS256", go-auth0 reference.md)."""
    members = {k: v for k, v in (jwt_configuration or {}).items() if k != "secret_encoded"}
    return {**members, "alg": "RS256"}


def _credential_method(client: Mapping[str, Any]) -> str | None:
    """The method the client authenticates with credentials by, if any: Auth0's sign of
    private_key_jwt or mTLS, whatever its token_endpoint_auth_method says."""
    methods = client.get("client_authentication_methods")
    if not isinstance(methods, dict):
        return None
    return next((m for m in CREDENTIAL_TYPE_FOR_METHOD if isinstance(methods.get(m), dict)), None)


def _foreign_credentials(client: Mapping[str, Any]) -> set[str]:
    """The ids of credentials the client uses for something other than authenticating
    (JWT-secured authorization requests, Token Vault): not the manifest's, but they count
    against the limit."""
    found: set[str] = set()
    for member in _OTHER_CREDENTIAL_USES:
        value = client.get(member)
        if isinstance(value, dict):
            found.update(str(c.get("id")) for c in value.get("credentials") or [])
    return found


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
