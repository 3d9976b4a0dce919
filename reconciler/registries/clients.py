"""A Registry over an Auth0-shaped clients API: the embedded tenant or the real one.

``ClientsApi`` is the handful of Management API calls the reconciler needs, in Auth0's
JSON shapes. The embedded ``Tenant`` implements it in-process; the Auth0 backend
implements it over HTTP. ``ClientsRegistry`` translates between canonical fields and
Auth0 client objects once, for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from reconciler.core.fields import MANAGED_FIELDS, PARTIAL_OBJECTS
from reconciler.core.model import App, Credential
from reconciler.core.stamp import STAMP_KEYS, Stamp
from reconciler.errors import ApiError, RegistryError
from reconciler.registries.base import Created, Registry

__all__ = ["ClientsApi", "ClientsRegistry", "app_from_client"]

#: Members Auth0 refuses on PATCH although it returns them.
_READ_ONLY_MEMBERS = {"jwt_configuration": {"secret_encoded"}}
_PKJWT = "private_key_jwt"


class ClientsApi(Protocol):
    def all_clients(self) -> list[dict[str, Any]]: ...

    def create_client(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def patch_client(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_client(self, client_id: str) -> None: ...

    def get_client(self, client_id: str) -> dict[str, Any]: ...

    def rotate_secret(self, client_id: str) -> dict[str, Any]: ...

    def list_credentials(self, client_id: str) -> list[dict[str, Any]]: ...

    def create_credential(self, client_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_credential(self, client_id: str, credential_id: str) -> None: ...

    def cimd_register(self, url: str, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The client registered or refreshed for ``url``, and whether it was created."""

    def close(self) -> None: ...


class ClientsRegistry(Registry):
    """The Registry over a ClientsApi."""

    def __init__(
        self,
        api: ClientsApi,
        uri: str,
        *,
        lock: Callable[[], AbstractContextManager[None]] | None = None,
        before_write: Callable[[], None] = lambda: None,
        hidden_client_ids: Sequence[str] = (),
    ) -> None:
        """``before_write`` runs before every write and raises to stop it (a lost lease)."""
        self.api = api
        self.uri = uri
        self._lock = lock
        self._before_write = before_write
        self._hidden = set(hidden_client_ids)

    def list_apps(self) -> list[App]:
        apps = []
        for client in self.api.all_clients():
            if client.get("global") or client.get("client_id") in self._hidden:
                continue
            credentials = None
            if _has_private_key_jwt_credentials(client):
                credentials = self.api.list_credentials(client["client_id"])
            apps.append(app_from_client(client, credentials))
        return apps

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        self._before_write()
        body = _writable(fields)
        body["client_metadata"] = {
            **dict(fields.get("client_metadata") or {}),
            **stamp.to_metadata(),
        }
        if fields.get("token_endpoint_auth_method") == _PKJWT:
            body.pop("token_endpoint_auth_method")
            body["jwt_configuration"] = {"alg": "RS256", **body.get("jwt_configuration", {})}
            body["client_authentication_methods"] = {
                _PKJWT: {"credentials": [_credential_body(c) for c in credentials]}
            }
        client = self.api.create_client(body)
        secret = client.get("client_secret")
        if fields.get("token_endpoint_auth_method") in (None, "none", _PKJWT):
            secret = None
        return Created(self._reread(client), secret if isinstance(secret, str) else None)

    def update(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App:
        self._before_write()
        body = _writable({k: v for k, v in changes.items() if k not in PARTIAL_OBJECTS})
        for name in PARTIAL_OBJECTS & changes.keys():
            merged = {**dict(current.record.get(name) or {}), **dict(changes[name])}
            body[name] = {
                k: v for k, v in merged.items() if k not in _READ_ONLY_MEMBERS.get(name, ())
            }
        body["client_metadata"] = self._metadata_patch(current, changes, stamp)
        method_before = current.fields.get("token_endpoint_auth_method")
        method_after = changes.get("token_endpoint_auth_method", method_before)
        wanted: Sequence[Credential] = changes.get("credentials", ())
        if method_after == _PKJWT:
            body.pop("token_endpoint_auth_method", None)
            if "credentials" in changes or method_before != _PKJWT:
                ids = self._add_credentials(current, wanted)
                body["client_authentication_methods"] = {
                    _PKJWT: {"credentials": [{"id": i} for i in ids]}
                }
                if method_before != _PKJWT:
                    body["token_endpoint_auth_method"] = None
                    alg = dict(
                        body.get("jwt_configuration")
                        or current.record.get("jwt_configuration")
                        or {}
                    )
                    alg.pop("secret_encoded", None)
                    body["jwt_configuration"] = {**alg, "alg": "RS256"}
        elif method_before == _PKJWT:
            body["client_authentication_methods"] = None
        client = self.api.patch_client(current.client_id, body)
        if method_before == _PKJWT and ("credentials" in changes or method_after != _PKJWT):
            keep = {c.name for c in wanted} if method_after == _PKJWT else set()
            for name, credential_id in current.credential_ids.items():
                if name not in keep or _replaced(current, name, wanted):
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
        self._before_write()
        client, _ = self.api.cimd_register(url, dict(document))
        return self._reread(client)

    def lock(self) -> AbstractContextManager[None]:
        return self._lock() if self._lock is not None else _no_lock()

    def close(self) -> None:
        self.api.close()

    def _reread(self, client: dict[str, Any]) -> App:
        credentials = None
        if _has_private_key_jwt_credentials(client):
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

    def _add_credentials(self, current: App, wanted: Sequence[Credential]) -> list[str]:
        """Create each wanted key that is not there yet; return the ids to switch to."""
        ids = []
        for credential in wanted:
            existing = current.credential_ids.get(credential.name)
            if existing is not None and not _replaced(current, credential.name, wanted):
                ids.append(existing)
                continue
            created = self.api.create_credential(current.client_id, _credential_body(credential))
            ids.append(str(created["id"]))
        return ids


def app_from_client(client: Mapping[str, Any], credentials: list[dict[str, Any]] | None) -> App:
    """The canonical view of an Auth0 client object (and its credentials, if listed)."""
    metadata = dict(client.get("client_metadata") or {})
    fields: dict[str, Any] = {
        name: client[name]
        for name in MANAGED_FIELDS
        if name in client and name != "client_metadata"
    }
    fields["client_metadata"] = {k: v for k, v in metadata.items() if k not in STAMP_KEYS}
    credential_ids: dict[str, str] = {}
    if _has_private_key_jwt_credentials(client):
        fields["token_endpoint_auth_method"] = _PKJWT
        summaries = []
        for credential in credentials or []:
            summary = {
                "name": credential.get("name"),
                "kid": credential.get("kid"),
                "alg": credential.get("alg"),
            }
            if credential.get("expires_at"):
                summary["expires_at"] = credential["expires_at"]
            summaries.append(summary)
            credential_ids[str(credential.get("name"))] = str(credential["id"])
        fields["credentials"] = sorted(summaries, key=lambda c: str(c["name"]))
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
        credential_ids=credential_ids,
    )


def _writable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in fields.items()
        if name in MANAGED_FIELDS and name not in ("credentials", "client_metadata")
    }


def _credential_body(credential: Credential) -> dict[str, Any]:
    body: dict[str, Any] = {
        "credential_type": "public_key",
        "name": credential.name,
        "pem": credential.pem,
        "alg": credential.alg,
        "kid": credential.kid,
    }
    if credential.expires_at:
        body["expires_at"] = credential.expires_at
    return body


def _replaced(current: App, name: str, wanted: Sequence[Credential]) -> bool:
    """A wanted key under an existing name but with other key material (a new kid)."""
    now = {c.get("name"): c.get("kid") for c in current.fields.get("credentials") or []}
    return any(c.name == name and now.get(name) not in (None, c.kid) for c in wanted)


def _has_private_key_jwt_credentials(client: Mapping[str, Any]) -> bool:
    """Whether the client has private_key_jwt credentials: Auth0's sign that it authenticates
    with private_key_jwt, whatever its token_endpoint_auth_method says."""
    methods = client.get("client_authentication_methods")
    return isinstance(methods, dict) and _PKJWT in methods and methods[_PKJWT] is not None


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
