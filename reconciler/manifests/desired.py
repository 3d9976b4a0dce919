"""From validated manifests to desired apps in canonical fields, with safe type defaults.

A field the manifest leaves out is not owned (the registry keeps whatever it holds), except
the few where the registry's own default would be unsafe: Auth0 gives a new app the
``implicit`` and ``client_credentials`` grants and a shared-secret auth method, so each type
gets a secure default for ``grant_types``, ``token_endpoint_auth_method`` and
``oidc_conformant`` unless the manifest says otherwise.

Keys stand in the fields by their summaries (name, kid, alg, expiry), the keys themselves
beside them: ``credentials`` for client authentication, ``signed_request_object.credentials``
for signed authorization requests.

An app's ``apis`` and ``connections`` are records of their own in the registry, not client
fields: they become the app's grants and connection links, sorted, each with its location.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.core.fields import APP_TYPE_BY_MANIFEST_TYPE, CIMD_MANIFEST_FIELDS
from reconciler.core.keys import (
    certificate_subject_dn,
    certificate_thumbprint,
    format_expiry,
    legacy_kid,
)
from reconciler.core.model import (
    CREDENTIAL_TYPE_FOR_METHOD,
    ApiGrant,
    ConnectionLink,
    Credential,
    DesiredApp,
)
from reconciler.diagnostics import Location
from reconciler.manifests.evaluation import ManifestApp, ManifestSet, relative_name
from reconciler.manifests.yamlfile import JsonPath

__all__ = ["TYPE_DEFAULTS", "api_grants", "desired_app", "desired_apps", "third_party_grants"]

_INTERACTIVE = ["authorization_code", "refresh_token"]
TYPE_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "spa": {"grant_types": _INTERACTIVE, "token_endpoint_auth_method": "none"},
    "native": {"grant_types": _INTERACTIVE, "token_endpoint_auth_method": "none"},
    "regular_web": {
        "grant_types": _INTERACTIVE,
        "token_endpoint_auth_method": "client_secret_post",
    },
    "m2m": {
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_post",
    },
}
_OURS = {"type", "metadata", "credentials", "client_id", "cimd", "protect", "apis", "connections"}
_LINT_ONLY = {"allow_legacy_grants", "legacy_grants_reason"}


def desired_apps(apps: Iterable[ManifestApp], root: Path | None = None) -> list[DesiredApp]:
    """Each app in canonical fields; ``root`` is the project root its file is named under."""
    names: dict[str, str] = {}  # one name per file, not one copy per app
    return [desired_app(app, root, names) for app in sorted(apps, key=lambda a: a.key)]


def desired_app(
    app: ManifestApp, root: Path | None = None, names: dict[str, str] | None = None
) -> DesiredApp:
    data = app.data
    kind = data.get("type")
    fields: dict[str, Any] = {}
    cimd = data.get("cimd")
    if not cimd and isinstance(kind, str):
        fields.update(TYPE_DEFAULTS[kind])
        fields["oidc_conformant"] = True
    for name, value in data.items():
        if name not in _OURS and name not in _LINT_ONLY:
            fields[name] = value
    if isinstance(kind, str):
        fields["app_type"] = APP_TYPE_BY_MANIFEST_TYPE[kind]
    if "metadata" in data:
        fields["client_metadata"] = dict(data["metadata"])
    method = data.get("token_endpoint_auth_method")
    credentials = tuple(
        _credential(c, method, Path(app.file.path).parent) for c in data.get("credentials", [])
    )
    if credentials:
        fields["credentials"] = [c.summary() for c in credentials]
    request_object = data.get("signed_request_object")
    request_keys: tuple[Credential, ...] = ()
    if isinstance(request_object, Mapping) and "credentials" in request_object:
        request_keys = tuple(
            _credential(c, None, Path(app.file.path).parent) for c in request_object["credentials"]
        )
        fields["signed_request_object"] = {
            **request_object,
            "credentials": [c.summary() for c in request_keys],
        }
    if cimd:
        fields = {name: value for name, value in fields.items() if name in CIMD_MANIFEST_FIELDS}
    grants = api_grants(data["apis"], app.locate, ("apis",)) if "apis" in data else None
    connections = _connections(data["connections"], app.locate) if "connections" in data else None
    return DesiredApp(
        key=app.key,
        fields=fields,
        client_id=data.get("client_id"),
        cimd=cimd,
        protect=bool(data.get("protect", False)),
        credentials=credentials,
        location=app.location,
        file=_file_name(app.file.path, root, {} if names is None else names),
        grants=grants,
        connections=connections,
        request_object_credentials=request_keys,
    )


def _file_name(path: str, root: Path | None, names: dict[str, str]) -> str:
    if root is None:
        return ""
    if path not in names:
        names[path] = relative_name(Path(path), root)
    return names[path]


def third_party_grants(manifests: ManifestSet) -> tuple[ApiGrant, ...] | None:
    """The tenant's grants for every third-party app (``third_party_apis`` of any file);
    None when no file has ``third_party_apis``: the project leaves them to the tenant."""
    if not manifests.third_party_apis:
        return None
    grants = [
        grant
        for entries, file in manifests.third_party_apis
        for grant in api_grants(entries, file.locate, ("third_party_apis",))
    ]
    return tuple(sorted(grants, key=lambda grant: grant.key))


def api_grants(
    entries: Iterable[Mapping[str, Any]], locate: Callable[[JsonPath], Location], path: JsonPath
) -> tuple[ApiGrant, ...]:
    """Validated ``apis`` entries as grants, sorted by (audience, subject_type)."""
    grants = [
        ApiGrant(
            audience=str(entry["audience"]),
            subject_type=str(entry.get("subject_type", "client")),
            scopes=tuple(sorted(set(entry.get("scopes", [])))),
            organization_usage=entry.get("organization_usage"),
            allow_any_organization=entry.get("allow_any_organization"),
            location=locate((*path, index, "audience")),
        )
        for index, entry in enumerate(entries)
    ]
    return tuple(sorted(grants, key=lambda grant: grant.key))


def _connections(
    names: Iterable[str], locate: Callable[[JsonPath], Location]
) -> tuple[ConnectionLink, ...]:
    first: dict[str, ConnectionLink] = {}
    for index, name in enumerate(names):
        first.setdefault(name, ConnectionLink(name, locate(("connections", index))))
    return tuple(first[name] for name in sorted(first))


def _credential(data: Mapping[str, Any], method: object, base_dir: Path) -> Credential:
    """A manifest credential, of the type ``method`` takes (a public key when the method
    takes none: lint warns ``credential-unused``)."""
    name = str(data["name"])
    kind = CREDENTIAL_TYPE_FOR_METHOD.get(str(method), "public_key")
    if "subject_dn" in data:
        return Credential(name, credential_type=kind, subject_dn=str(data["subject_dn"]))
    if "pem" in data:
        pem = str(data["pem"])
    else:
        pem = (base_dir / str(data["public_key_file"])).read_text("utf-8")
    pem = pem.strip() + "\n"
    if kind == "cert_subject_dn":
        return Credential(name, pem, credential_type=kind, subject_dn=certificate_subject_dn(pem))
    if kind == "x509_cert":
        return Credential(
            name, pem, credential_type=kind, thumbprint_sha256=certificate_thumbprint(pem)
        )
    named = data.get("kid")
    expires_at = data.get("expires_at")
    return Credential(
        name=name,
        pem=pem,
        alg=str(data.get("alg", "RS256")),
        kid=str(named or Credential.kid_for(pem)),
        expires_at=format_expiry(str(expires_at)) if expires_at is not None else None,
        earlier_kid="" if named else legacy_kid(pem),
    )
