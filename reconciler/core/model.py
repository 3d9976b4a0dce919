"""Value objects: the app a manifest asks for, the app a registry holds, and their fields.

Both sides speak one vocabulary, the *canonical fields*: Auth0's client field names, with
``app_type`` already mapped (m2m is ``non_interactive``), ``client_metadata`` holding only
the user's entries (never the ownership stamp), ``token_endpoint_auth_method`` able to say
``private_key_jwt`` (or an mTLS method), and ``credentials`` listing each credential's
summary: a public key by name, kid and algorithm, a certificate by its thumbprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from reconciler.core.fields import (
    ACCESS_FIELDS,
    MANAGED_FIELDS,
    PARTIAL_OBJECTS,
    SET_LIKE_FIELDS,
)
from reconciler.core.keys import jwk_thumbprint
from reconciler.core.stamp import Stamp
from reconciler.diagnostics import Location

__all__ = [
    "Source",
    "SourceOrigin",
    "Api",
    "ApiGrant",
    "App",
    "LoginConnection",
    "ConnectionLink",
    "CREDENTIAL_METHODS",
    "CREDENTIAL_TYPE_FOR_METHOD",
    "Credential",
    "DesiredApp",
    "HeldCredential",
    "Grant",
    "canonical",
    "access_fields",
    "credential_identity",
    "digest",
    "grant_name",
    "grants_from_view",
    "project",
    "with_held_kids",
]


_POSITION = {name: index for index, name in enumerate((*MANAGED_FIELDS, *ACCESS_FIELDS))}
_ORGANIZATION_MEMBERS = ("organization_usage", "allow_any_organization")


#: The credential type each authentication method takes (Auth0's ``credential_type``).
CREDENTIAL_TYPE_FOR_METHOD = {
    "private_key_jwt": "public_key",
    "tls_client_auth": "cert_subject_dn",
    "self_signed_tls_client_auth": "x509_cert",
}
#: The token endpoint auth methods whose app authenticates with ``credentials``.
CREDENTIAL_METHODS = frozenset(CREDENTIAL_TYPE_FOR_METHOD)


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential an app authenticates with: a public key (``public_key``, for
    private_key_jwt), an X.509 certificate (``x509_cert``, for self_signed_tls_client_auth)
    or a certificate's subject DN (``cert_subject_dn``, for tls_client_auth).

    Identity is the name; what identifies the material follows it: a key's ``kid``, a
    certificate's ``thumbprint_sha256``, the ``subject_dn``. ``expires_at`` is in Auth0's
    spelling (``keys.format_expiry``). ``earlier_kid`` is the kid earlier versions derived
    for a key whose kid is the default: a registry still holding it holds this key.
    """

    name: str
    pem: str = ""
    alg: str = "RS256"
    kid: str = ""
    expires_at: str | None = None
    credential_type: str = "public_key"
    subject_dn: str = ""
    thumbprint_sha256: str = ""
    earlier_kid: str = ""

    @staticmethod
    def kid_for(pem: str) -> str:
        """The default key id: the key's RFC 7638 JWK thumbprint, as Auth0 derives it."""
        return jwk_thumbprint(pem)

    def summary(self) -> dict[str, Any]:
        """What a plan shows and compares: never the key material itself."""
        shown: dict[str, Any] = {"name": self.name}
        if self.credential_type == "x509_cert":
            shown.update(credential_type="x509_cert", thumbprint_sha256=self.thumbprint_sha256)
            return shown
        if self.credential_type == "cert_subject_dn":
            shown.update(credential_type="cert_subject_dn", subject_dn=self.subject_dn)
            return shown
        shown.update(kid=self.kid, alg=self.alg)
        if self.expires_at:
            shown["expires_at"] = self.expires_at
        return shown

    def key_data(self) -> dict[str, Any]:
        """What a plan carries for apply to register it: the summary, and the PEM (public
        material, left out of what the renderers show)."""
        return {**self.summary(), "pem": self.pem} if self.pem else self.summary()

    @classmethod
    def from_key_data(cls, data: Mapping[str, Any]) -> Credential:
        """The credential ``key_data`` gave."""
        return cls(
            name=str(data["name"]),
            pem=str(data.get("pem", "")),
            alg=str(data.get("alg", "RS256")),
            kid=str(data.get("kid", "")),
            expires_at=data.get("expires_at"),
            credential_type=str(data.get("credential_type", "public_key")),
            subject_dn=str(data.get("subject_dn", "")),
            thumbprint_sha256=str(data.get("thumbprint_sha256", "")),
        )


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """A credential as a registry holds it for an app: its id there, its ``summary`` (as
    ``Credential.summary`` gives one) and whether the app authenticates with it now."""

    id: str
    summary: Mapping[str, Any]
    enabled: bool = True

    @property
    def name(self) -> str:
        return str(self.summary.get("name"))


def credential_identity(summary: Mapping[str, Any]) -> tuple[str, str]:
    """What identifies a credential's material: its type and its kid, certificate
    thumbprint or subject DN. Two credentials of one app never share it."""
    kind = str(summary.get("credential_type", "public_key"))
    member = {"x509_cert": "thumbprint_sha256", "cert_subject_dn": "subject_dn"}.get(kind, "kid")
    return kind, str(summary.get(member))


def with_held_kids(spec: DesiredApp, app: App) -> DesiredApp:
    """``spec`` with each key the registry holds under the kid an earlier version derived
    for it (``Credential.earlier_kid``), everything else equal, declared under that kid:
    it is the same key, so it is neither shown as changed nor rotated."""
    held = {
        str(summary.get("name")): summary
        for summary in app.fields.get("credentials") or []
        if isinstance(summary, Mapping)
    }
    settled = tuple(
        replace(credential, kid=credential.earlier_kid)
        if credential.earlier_kid
        and held.get(credential.name) == {**credential.summary(), "kid": credential.earlier_kid}
        else credential
        for credential in spec.credentials
    )
    if settled == spec.credentials:
        return spec
    fields = {**spec.fields, "credentials": [credential.summary() for credential in settled]}
    return replace(spec, fields=fields, credentials=settled)


@dataclass(frozen=True, slots=True)
class ApiGrant:
    """Access to one API (an Auth0 client grant). Identity: (audience, subject_type).

    ``scopes`` are sorted and unique, so the order a manifest lists them in never shows;
    ``organization_usage`` and ``allow_any_organization`` are None when the manifest leaves
    them to the registry. The location is where the manifest declares it, not part of it.
    """

    audience: str
    subject_type: str = "client"
    scopes: tuple[str, ...] = ()
    organization_usage: str | None = None
    allow_any_organization: bool | None = None
    location: Location | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.audience, self.subject_type)

    def view(self) -> dict[str, Any]:
        """How a plan compares and shows it: its scopes, and the organization members the
        manifest sets."""
        return _grant_view(self.scopes, self)


@dataclass(frozen=True, slots=True)
class ConnectionLink:
    """A login connection an app offers, by the connection's name, with where it is named."""

    name: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DesiredApp:
    """An app as the manifests ask for it, in canonical fields."""

    key: str
    fields: Mapping[str, Any]
    client_id: str | None = None
    cimd: str | None = None
    protect: bool = False
    credentials: tuple[Credential, ...] = ()
    location: Location | None = None
    #: The manifest file that declares it, relative to the project root (posix).
    file: str = ""
    #: The APIs it may call, sorted by key; None: the manifest does not manage its grants.
    grants: tuple[ApiGrant, ...] | None = None
    #: Its login connections, sorted by name; None: the manifest does not manage them.
    connections: tuple[ConnectionLink, ...] | None = None
    #: The keys that verify its signed authorization requests (``signed_request_object``).
    request_object_credentials: tuple[Credential, ...] = ()

    @property
    def where(self) -> str:
        return str(self.location) if self.location else ""

    def comparable(self) -> dict[str, Any]:
        """The owned fields as compared (credentials appear by their summaries), then what
        the app may access where the manifest manages it (``grants``, ``connections``)."""
        ordered = sorted(self.fields, key=lambda n: _POSITION.get(n, len(_POSITION)))
        fields = {name: self.fields[name] for name in ordered}
        if self.grants is not None:
            fields["grants"] = {grant_name(g.key): g.view() for g in self.grants}
        if self.connections is not None:
            fields["connections"] = [link.name for link in self.connections]
        return canonical(fields)


@dataclass(frozen=True, slots=True)
class App:
    """An app as a registry holds it. ``fields`` is the canonical view of ``record``."""

    client_id: str
    fields: Mapping[str, Any]
    stamp: Stamp | None = None
    external_client_id: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    #: The credentials the app authenticates with (or could: not yet enabled), by id.
    credentials: tuple[HeldCredential, ...] = ()
    #: How many credentials the registry keeps for the app at once, added and removed one
    #: by one (Auth0: 2, less any the app uses for something else); None: the registry
    #: writes an app's keys in one piece (an RFC 7591 ``jwks``).
    credential_limit: int | None = None
    #: The keys that verify its signed authorization requests, by id; they count against
    #: the same limit (``credential_limit`` is what they leave for authentication).
    request_object_credentials: tuple[HeldCredential, ...] = ()
    #: Why the registry cannot show or change this app, and what to do (None: it can).
    unreachable: str | None = None
    #: What a reader of a change to this app should know about how the registry holds it.
    note: str | None = None

    @property
    def is_cimd(self) -> bool:
        return self.external_client_id is not None

    def fingerprint(self) -> str:
        """Changes whenever anything about the app as read changes."""
        payload = {"record": self.record, "fields": self.fields, "stamp": _stamp_data(self.stamp)}
        return "sha256:" + digest(payload)

    def owned_by(self, owner: str) -> bool:
        return self.stamp is not None and self.stamp.owner == owner


@dataclass(frozen=True, slots=True)
class Grant:
    """A client grant as a registry holds it: which client (or, with ``default_for``,
    which group of clients) may get tokens for ``audience``, with which scopes.

    ``scopes`` are sorted and unique, as ``ApiGrant`` holds them, so the two compare by
    value; ``organization_usage`` and ``allow_any_organization`` are None when the grant
    does not set them.
    """

    id: str
    client_id: str | None
    audience: str
    scopes: tuple[str, ...] = ()
    subject_type: str = "client"
    organization_usage: str | None = None
    allow_any_organization: bool | None = None
    #: Set instead of ``client_id`` for a tenant's grant for a group of clients.
    default_for: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Its identity for its client, as ``ApiGrant.key``."""
        return (self.audience, self.subject_type)

    def view(self) -> dict[str, Any]:
        """As ``ApiGrant.view``, with every organization member the grant sets."""
        return _grant_view(self.scopes, self)


@dataclass(frozen=True, slots=True)
class Api:
    """An API of the registry (an Auth0 resource server) and the scopes it defines."""

    identifier: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoginConnection:
    """A login connection of the registry and the clients it is enabled for (sorted)."""

    id: str
    name: str
    enabled_clients: tuple[str, ...] = ()


def grant_name(key: tuple[str, str]) -> str:
    """A grant's name among an app's ``grants``: its audience, and `` as user`` for a grant
    to users rather than to the client itself."""
    audience, subject_type = key
    return audience if subject_type == "client" else f"{audience} as {subject_type}"


def grants_from_view(view: Mapping[str, Mapping[str, Any]]) -> list[ApiGrant]:
    """The grants an app's ``grants`` field (as ``DesiredApp.comparable`` makes it) asks for."""
    grants = []
    for name, grant in view.items():
        audience, _, subject_type = name.partition(" as ")
        grants.append(
            ApiGrant(
                audience,
                subject_type or "client",
                tuple(grant.get("scopes", ())),
                grant.get("organization_usage"),
                grant.get("allow_any_organization"),
            )
        )
    return grants


def access_fields(
    grants: Iterable[Grant] | None, connections: Iterable[str] | None
) -> dict[str, Any]:
    """The ``grants`` and ``connections`` fields of an app as a registry holds them (each
    left out when None: a registry that holds none)."""
    fields: dict[str, Any] = {}
    if grants is not None:
        ordered = sorted(grants, key=lambda grant: grant.key)
        fields["grants"] = {grant_name(grant.key): grant.view() for grant in ordered}
    if connections is not None:
        fields["connections"] = sorted(set(connections))
    return fields


def _grant_view(scopes: Sequence[str], grant: ApiGrant | Grant) -> dict[str, Any]:
    view: dict[str, Any] = {"scopes": list(scopes)}
    for name in _ORGANIZATION_MEMBERS:
        if getattr(grant, name) is not None:
            view[name] = getattr(grant, name)
    return view


def project(desired_fields: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, Any]:
    """The actual values of exactly the fields (and object members) the desired side owns.

    Of ``grants``, every grant the registry holds is the desired side's (one it does not
    declare is to be deleted), with the organization members the desired grant sets."""
    view: dict[str, Any] = {}
    for name, wanted in desired_fields.items():
        value = actual.get(name)
        if name == "grants" and isinstance(wanted, dict):
            view[name] = _project_grants(wanted, value if isinstance(value, dict) else {})
        elif name in PARTIAL_OBJECTS and isinstance(wanted, dict):
            view[name] = _owned_members(wanted, value)
        else:
            view[name] = value
    return canonical(view)


def _owned_members(wanted: Mapping[str, Any], held: Any) -> dict[str, Any]:
    """Of ``held``, the members ``wanted`` names, and of an object member the members it
    names in turn."""
    present = held if isinstance(held, dict) else {}
    owned: dict[str, Any] = {}
    for member, value in wanted.items():
        found = present.get(member)
        if isinstance(value, dict) and isinstance(found, dict):
            found = _owned_members(value, found)
        owned[member] = found
    return owned


def _project_grants(
    wanted: Mapping[str, Mapping[str, Any]], held: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    projected = {}
    for name, grant in held.items():
        asked = wanted.get(name, {})
        members = [member for member in _ORGANIZATION_MEMBERS if member in asked]
        projected[name] = {"scopes": grant.get("scopes", []), **{m: grant.get(m) for m in members}}
    return projected


def canonical(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Set-like arrays (``SET_LIKE_FIELDS``, inside objects too) sorted and de-duplicated,
    so order never shows as a change."""
    result: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "credentials" and isinstance(value, list):
            value = sorted(value, key=lambda c: str(c.get("name")))
        else:
            value = _canonical_value(name, value)
        result[name] = value
    return result


def _canonical_value(path: str, value: Any) -> Any:
    # Scalars are returned before a path is made for them: this runs for every member of
    # every app, twice a plan.
    if isinstance(value, dict):
        return {
            member: _canonical_value(f"{path}.{member}", v) if isinstance(v, dict | list) else v
            for member, v in value.items()
        }
    if not isinstance(value, list):
        return value
    inner = f"{path}[]"
    items = [_canonical_value(inner, i) if isinstance(i, dict | list) else i for i in value]
    if path not in SET_LIKE_FIELDS:
        return items
    if all(type(item) is str for item in items):  # the common case: sorted as _order_key does
        return sorted(set(items))
    unique = {_order_key(item): item for item in items}
    return [unique[key] for key in sorted(unique)]


def _order_key(item: Any) -> str:
    if isinstance(item, dict | list):
        return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(item)


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stamp_data(stamp: Stamp | None) -> dict[str, Any] | None:
    if stamp is None:
        return None
    return stamp.to_metadata()


class SourceOrigin(StrEnum):
    """Where the document a plan uses for a CIMD URL came from."""

    #: Fetched, and valid, during this plan.
    FETCHED = "fetched"
    #: The document could not be used, so the copy in reconciler.lock was.
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Source:
    """The document a plan uses for one CIMD URL, and where it came from."""

    url: str
    document: Mapping[str, Any]
    sha256: str
    fetched_at: str
    origin: SourceOrigin
    #: The security-sensitive document fields that differ from the locked copy (the plan
    #: labels the refresh; not saved: the change's risks carry it).
    sensitive_changes: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sha256": self.sha256,
            "fetched_at": self.fetched_at,
            "origin": str(self.origin),
            "document": dict(self.document),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Source:
        return cls(
            data["url"],
            data["document"],
            data["sha256"],
            data["fetched_at"],
            SourceOrigin(data["origin"]),
        )
