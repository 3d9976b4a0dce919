"""What the embedded tenant accepts: Auth0's client and credential rules, with Auth0's words.

Auth0 validates request bodies against a JSON Schema and answers the first problem as
``Payload validation error: '<detail>' on property <path>.`` (400 ``invalid_body``), and
query strings likewise as ``Query validation error: ...`` (400 ``invalid_query_string``).
The small schema language here produces the same details, so a caller of the embedded
tenant reads what the real API would have said. Rules a schema cannot express (fields
that exclude each other, credential references, CIMD restrictions) follow the schemas.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.cimd_mapping import CIMD_GRANT_TYPES, mapped_fields
from reconciler.errors import ApiError

__all__ = [
    "APP_TYPES",
    "CIMD_EDITABLE_FIELDS",
    "CIMD_GRANT_TYPES",
    "DEFAULT_GRANT_TYPES",
    "ClientQuery",
    "JsonObject",
    "NewCredential",
    "Projection",
    "check_cimd_patch",
    "check_client_patch",
    "check_client_rules",
    "check_credential_patch",
    "check_new_client",
    "check_new_credential",
    "cimd_mapped_fields",
    "format_timestamp",
    "invalid_body",
    "merge_patch",
    "parse_client_query",
    "parse_projection",
]

JsonObject = dict[str, Any]

APP_TYPES = tuple(
    "native spa regular_web non_interactive resource_server express_configuration rms "
    "box cloudbees concur dropbox mscrm echosign egnyte newrelic office365 salesforce "
    "sentry sharepoint slack springcm zendesk zoom sso_integration oag".split()
)
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:openid:params:grant-type:ciba",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token",
)
DEFAULT_GRANT_TYPES = ("authorization_code", "implicit", "refresh_token", "client_credentials")
JWT_ALGS = ("HS256", "RS256", "RS512", "PS256")
ASYMMETRIC_JWT_ALGS = ("RS256", "RS512", "PS256")
CREDENTIAL_ALGS = ("RS256", "RS384", "PS256")
CREDENTIAL_TYPE_FOR_METHOD = {
    "private_key_jwt": "public_key",
    "tls_client_auth": "cert_subject_dn",
    "self_signed_tls_client_auth": "x509_cert",
}
CIMD_APP_TYPES = ("native", "regular_web")
#: Auth0's documented list, plus what auth0-deploy-cli and terraform also send.
CIMD_EDITABLE_FIELDS = frozenset(
    "app_type grant_types jwt_configuration description oidc_conformant "
    "allowed_origins web_origins refresh_token organization_usage "
    "organization_require_behavior organization_discovery_methods "
    "default_organization client_metadata require_proof_of_possession token_quota "
    "skip_non_verifiable_callback_uri_confirmation_prompt redirection_policy".split()
)
MAX_METADATA_KEYS = 10
MAX_METADATA_LENGTH = 255
MIN_RSA_BITS = 2048
#: Strings a PATCH may not set to null: the client would be left without them.
_NOT_NULLABLE_ON_PATCH = ("name", "client_secret")
_METADATA_KEY_PATTERN = r'^[A-Za-z0-9:,\-+=_*?"/\\()<>@\t ]+$'
_KID_PATTERN = r"^[0-9a-zA-Z_-]{10,64}$"


# -- errors -------------------------------------------------------------------------------


def invalid_body(detail: str, path: str = "") -> ApiError:
    where = f" on property {path}" if path else ""
    return ApiError(
        400, "Bad Request", f"Payload validation error: '{detail}'{where}.", "invalid_body"
    )


_QUERY_DESCRIPTIONS = {
    "page": "Page index of the results to return. First page is 0.",
    "per_page": "Number of results per page. Default value is 50, maximum value is 100.",
    "include_totals": "Return results inside an object that contains the total result count "
    "(true) or as a direct array of results (false, default).",
    "fields": "Comma-separated list of fields to include or exclude (based on value provided "
    "for include_fields) in the result. Leave empty to retrieve all fields.",
    "include_fields": "Whether specified fields are to be included (true) or excluded (false).",
    "is_global": "Optional filter on the global client parameter.",
    "is_first_party": "Optional filter on whether or not a client is a first-party client.",
    "app_type": "Optional filter by a comma-separated list of application types.",
    "external_client_id": "Optional filter by the URL of a Client ID Metadata Document.",
}


def _query_error(detail: str, name: str) -> ApiError:
    message = (
        f"Query validation error: '{detail}' on property {name} ({_QUERY_DESCRIPTIONS[name]})."
    )
    return ApiError(400, "Bad Request", message, "invalid_query_string")


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# -- a JSON Schema subset -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One schema node. An object rule without ``properties`` takes any members."""

    type: str | None = None
    nullable: bool = False
    enum: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: Rule | None = None
    min_items: int | None = None
    properties: Mapping[str, Rule] | None = None
    required: tuple[str, ...] = ()
    key_rule: Rule | None = None
    value_rule: Rule | None = None
    max_properties: int | None = None


def check(value: Any, rule: Rule, path: str = "", *, patch: bool = False) -> None:
    """Raise the first problem with ``value``.

    With ``patch``, objects are read as RFC 7386 merge patches: a null member deletes
    that member and required members may be left out (the merged result is checked later).
    """
    if value is None:
        if rule.nullable or rule.type is None:
            return
        raise invalid_body(f"Expected type {rule.type} but found type null", path)
    found = json_type(value)
    if rule.type is not None and found != rule.type:
        raise invalid_body(f"Expected type {rule.type} but found type {found}", path)
    if isinstance(value, str):
        _check_string(value, rule, path)
    elif found == "integer":
        _check_integer(value, rule, path)
    elif isinstance(value, list | tuple):
        _check_array(value, rule, path)
    elif isinstance(value, dict):
        _check_object(value, rule, path, patch=patch)
    elif found not in ("boolean", "number"):
        raise invalid_body(f"Expected a JSON value but found type {found}", path)


def _check_string(value: str, rule: Rule, path: str) -> None:
    if rule.min_length is not None and len(value) < rule.min_length:
        raise invalid_body(
            f"String is too short ({len(value)} chars), minimum {rule.min_length}", path
        )
    if rule.max_length is not None and len(value) > rule.max_length:
        raise invalid_body(
            f"String is too long ({len(value)} chars), maximum {rule.max_length}", path
        )
    if rule.enum and value not in rule.enum:
        raise invalid_body(f"No enum match for: {json.dumps(value)}", path)
    if rule.pattern is not None and not re.search(rule.pattern, value):
        raise invalid_body(f"String does not match pattern {rule.pattern}: {value}", path)
    if rule.format is not None and not _FORMATS[rule.format](value):
        raise invalid_body(f"Object didn't pass validation for format {rule.format}: {value}", path)


def _check_integer(value: int, rule: Rule, path: str) -> None:
    if rule.minimum is not None and value < rule.minimum:
        raise invalid_body(f"Value {value} is less than minimum {rule.minimum}", path)
    if rule.maximum is not None and value > rule.maximum:
        raise invalid_body(f"Value {value} is greater than maximum {rule.maximum}", path)


def _check_array(value: list[Any] | tuple[Any, ...], rule: Rule, path: str) -> None:
    if rule.min_items is not None and len(value) < rule.min_items:
        raise invalid_body(f"Array is too short ({len(value)}), minimum {rule.min_items}", path)
    for index, item in enumerate(value):
        # Arrays replace what was there, so their items are whole values even in a patch.
        check(item, rule.items or Rule(), f"{path}[{index}]")


def _check_object(value: dict[Any, Any], rule: Rule, path: str, *, patch: bool) -> None:
    if rule.properties is not None and rule.value_rule is None:
        for key in value:
            if key not in rule.properties:
                raise invalid_body(f"Additional properties not allowed: {key}", path)
    if not patch:
        for key in rule.required:
            if key not in value:
                raise invalid_body(f"Missing required property: {key}", path)
        if rule.max_properties is not None and len(value) > rule.max_properties:
            raise invalid_body(
                f"Too many properties defined ({len(value)}), maximum {rule.max_properties}",
                path,
            )
    for key, member in value.items():
        if not isinstance(key, str):
            raise invalid_body(f"Expected property names of type string: {key!r}", path)
        if rule.key_rule is not None:
            check(key, rule.key_rule, path)
        member_rule = rule.properties.get(key) if rule.properties is not None else rule.value_rule
        if member_rule is None:
            member_rule = Rule()
        if member is None and patch:
            continue
        check(member, member_rule, _join(path, key), patch=patch)


def _is_https_uri_or_empty(value: str) -> bool:
    if value == "":
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.netloc) and "#" not in value


def _is_date_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper()


_FORMATS = {
    "absolute-https-uri-or-empty": _is_https_uri_or_empty,
    "date-time": _is_date_time,
}


def _enum(*values: str, nullable: bool = False) -> Rule:
    return Rule(type="string", enum=values, nullable=nullable)


def _array(items: Rule, *, min_items: int | None = None, nullable: bool = False) -> Rule:
    return Rule(type="array", items=items, min_items=min_items, nullable=nullable)


def _object(
    properties: Mapping[str, Rule], *, required: tuple[str, ...] = (), nullable: bool = False
) -> Rule:
    return Rule(type="object", properties=properties, required=required, nullable=nullable)


_TEXT = Rule(type="string")
_NONEMPTY_TEXT = Rule(type="string", min_length=1)
_FLAG = Rule(type="boolean")
_ANY_OBJECT = Rule(type="object", nullable=True)
_URLS = _array(_NONEMPTY_TEXT)
_DATE_TIME = Rule(type="string", format="date-time")

_CREDENTIAL_MEMBERS = {
    "credential_type": _enum("public_key", "cert_subject_dn", "x509_cert"),
    "name": Rule(type="string", max_length=128),
    "subject_dn": Rule(type="string", min_length=1, max_length=256),
    "pem": _NONEMPTY_TEXT,
    "alg": _enum(*CREDENTIAL_ALGS),
    "parse_expiry_from_cert": _FLAG,
    "expires_at": _DATE_TIME,
    "kid": Rule(type="string", pattern=_KID_PATTERN),
}
_COMMON_CREDENTIAL_MEMBERS = {"credential_type", "name", "pem", "expires_at"}
_MEMBERS_BY_CREDENTIAL_TYPE = {
    "public_key": _COMMON_CREDENTIAL_MEMBERS | {"alg", "kid", "parse_expiry_from_cert"},
    "x509_cert": _COMMON_CREDENTIAL_MEMBERS | {"parse_expiry_from_cert"},
    "cert_subject_dn": _COMMON_CREDENTIAL_MEMBERS | {"subject_dn", "parse_expiry_from_cert"},
}
_NEW_CREDENTIAL = _object(_CREDENTIAL_MEMBERS, required=("credential_type",))
_CREDENTIAL_PATCH = _object({"expires_at": Rule(type="string", format="date-time", nullable=True)})
_CREDENTIAL_REFERENCE = _object({"id": _NONEMPTY_TEXT}, required=("id",))


def _authentication_methods(credential: Rule, *, nullable: bool) -> Rule:
    method = _object({"credentials": _array(credential, min_items=1)}, required=("credentials",))
    return _object({name: method for name in CREDENTIAL_TYPE_FOR_METHOD}, nullable=nullable)


_REFRESH_TOKEN = _object(
    {
        "rotation_type": _enum("rotating", "non-rotating"),
        "expiration_type": _enum("expiring", "non-expiring"),
        "leeway": Rule(type="integer", minimum=0),
        "token_lifetime": Rule(type="integer", minimum=1),
        "idle_token_lifetime": Rule(type="integer", minimum=1),
        "infinite_token_lifetime": _FLAG,
        "infinite_idle_token_lifetime": _FLAG,
        "policies": _array(
            _object(
                {"audience": _NONEMPTY_TEXT, "scope": _array(_NONEMPTY_TEXT)},
                required=("audience", "scope"),
            )
        ),
    },
    required=("rotation_type", "expiration_type"),
    nullable=True,
)
_CLIENT_METADATA = Rule(
    type="object",
    key_rule=Rule(type="string", max_length=MAX_METADATA_LENGTH, pattern=_METADATA_KEY_PATTERN),
    value_rule=Rule(type="string", max_length=MAX_METADATA_LENGTH),
    max_properties=MAX_METADATA_KEYS,
    nullable=True,
)
_FREE_FORM_OBJECTS = tuple(
    "addons mobile native_social_login fedcm_login oidc_logout "
    "oidc_backchannel_logout session_transfer token_exchange token_quota "
    "signed_request_object token_vault_privileged_access express_configuration "
    "my_organization_configuration".split()
)
_CLIENT_MEMBERS: dict[str, Rule] = {
    "name": Rule(type="string", min_length=1, pattern=r"^[^<>]+$"),
    "description": Rule(type="string", max_length=140),
    "logo_uri": _TEXT,
    "callbacks": _URLS,
    "allowed_origins": _URLS,
    "web_origins": _URLS,
    "allowed_logout_urls": _URLS,
    "client_aliases": _URLS,
    "allowed_clients": _URLS,
    "grant_types": _array(Rule(type="string", min_length=1, enum=GRANT_TYPES)),
    "app_type": _enum(*APP_TYPES),
    "is_first_party": _FLAG,
    "oidc_conformant": _FLAG,
    "cross_origin_authentication": _FLAG,
    "cross_origin_auth": _FLAG,
    "sso": _FLAG,
    "sso_disabled": _FLAG,
    "custom_login_page_on": _FLAG,
    "is_token_endpoint_ip_header_trusted": _FLAG,
    "require_pushed_authorization_requests": _FLAG,
    "require_proof_of_possession": _FLAG,
    "skip_non_verifiable_callback_uri_confirmation_prompt": Rule(type="boolean", nullable=True),
    "cross_origin_loc": _TEXT,
    "custom_login_page": _TEXT,
    "custom_login_page_preview": _TEXT,
    "form_template": _TEXT,
    "initiate_login_uri": Rule(type="string", format="absolute-https-uri-or-empty"),
    "jwt_configuration": _object(
        {
            "lifetime_in_seconds": Rule(type="integer", minimum=0),
            "scopes": Rule(type="object"),
            "alg": _enum(*JWT_ALGS),
        }
    ),
    "encryption_key": _object({"pub": _TEXT, "cert": _TEXT, "subject": _TEXT}, nullable=True),
    "client_metadata": _CLIENT_METADATA,
    "refresh_token": _REFRESH_TOKEN,
    "organization_usage": _enum("deny", "allow", "require"),
    "organization_require_behavior": _enum("no_prompt", "pre_login_prompt", "post_login_prompt"),
    "organization_discovery_methods": _array(_enum("email", "organization_name"), nullable=True),
    "default_organization": _object(
        {"organization_id": _NONEMPTY_TEXT, "flows": _array(_enum("client_credentials"))},
        required=("organization_id", "flows"),
        nullable=True,
    ),
    "compliance_level": _enum(
        "none",
        "fapi1_adv_pkj_par",
        "fapi1_adv_mtls_par",
        "fapi2_sp_pkj_mtls",
        "fapi2_sp_mtls_mtls",
        nullable=True,
    ),
    "redirection_policy": _enum("allow_always", "open_redirect_protection"),
    "par_request_expiry": Rule(type="integer", minimum=10, maximum=600, nullable=True),
    "async_approval_notification_channels": _array(_enum("guardian-push", "email")),
    **{name: _ANY_OBJECT for name in _FREE_FORM_OBJECTS},
}
_NEW_CLIENT = _object(
    {
        **_CLIENT_MEMBERS,
        "token_endpoint_auth_method": _enum("none", "client_secret_post", "client_secret_basic"),
        "client_authentication_methods": _authentication_methods(_NEW_CREDENTIAL, nullable=False),
        "third_party_security_mode": _enum("strict", "permissive"),
        "resource_server_identifier": _NONEMPTY_TEXT,
    },
    required=("name",),
)
_CLIENT_PATCH = _object(
    {
        **_CLIENT_MEMBERS,
        "token_endpoint_auth_method": _enum(
            "none", "client_secret_post", "client_secret_basic", nullable=True
        ),
        "client_authentication_methods": _authentication_methods(
            _CREDENTIAL_REFERENCE, nullable=True
        ),
        "client_secret": _NONEMPTY_TEXT,
    }
)


# -- client bodies ---------------------------------------------------------------------------


def check_new_client(body: object) -> JsonObject:
    """The body of a POST /clients, checked; inline credentials are checked separately."""
    check(body, _NEW_CLIENT)
    assert isinstance(body, dict)
    return body


def check_client_patch(body: object) -> JsonObject:
    """The body of a PATCH /clients/{id}, checked as a merge patch."""
    check(body, _CLIENT_PATCH, patch=True)
    assert isinstance(body, dict)
    for name in _NOT_NULLABLE_ON_PATCH:
        if name in body and body[name] is None:
            raise invalid_body("Expected type string but found type null", name)
    return body


def check_cimd_patch(body: Mapping[str, Any]) -> None:
    """Refuse what a PATCH may not change on a client registered from a CIMD document."""
    for name, value in body.items():
        if name not in CIMD_EDITABLE_FIELDS:
            raise invalid_body(
                f"Additional properties not allowed: {name} (a client registered from a Client "
                "ID Metadata Document takes it from the document: register the URL again)",
            )
        if name == "jwt_configuration" and isinstance(value, dict):
            for member in value:
                if member != "alg":
                    raise invalid_body(
                        f"Additional properties not allowed: {member} (only alg is editable on "
                        "a client registered from a Client ID Metadata Document)",
                        "jwt_configuration",
                    )


_CIMD_DOCUMENT_MEMBERS = {
    "client_id": _NONEMPTY_TEXT,
    "client_name": _CLIENT_MEMBERS["name"],
    "redirect_uris": _URLS,
    "grant_types": _array(_NONEMPTY_TEXT),
    "application_type": _enum("web", "native"),
    "token_endpoint_auth_method": _enum("none", "private_key_jwt"),
    "logo_uri": _TEXT,
    "description": _CLIENT_MEMBERS["description"],
    "jwks_uri": _NONEMPTY_TEXT,
}


def cimd_mapped_fields(url: str, document: object) -> JsonObject:
    """The client fields a Client ID Metadata Document gives: the preview's ``mapped_fields``.

    ``document`` has been fetched and validated against the CIMD rules already; this
    refuses only what would make a client the tenant itself would not accept.
    """
    if not isinstance(url, str) or not url:
        raise invalid_body("Expected a non-empty URL", "external_client_id")
    check(document, Rule(type="object"))
    assert isinstance(document, dict)
    for name, rule in _CIMD_DOCUMENT_MEMBERS.items():
        if name in document:
            check(document[name], rule, name)
    if document.get("client_id", url) != url:
        raise invalid_body("The document's client_id must equal its URL", "client_id")
    mapped = mapped_fields(url, document)
    if not mapped["grant_types"]:
        raise invalid_body(
            "grant_types must include authorization_code or refresh_token", "grant_types"
        )
    if mapped["token_endpoint_auth_method"] == "private_key_jwt" and "jwks_uri" not in mapped:
        raise invalid_body("Missing required property: jwks_uri (for private_key_jwt)")
    return mapped


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> JsonObject:
    """RFC 7386: objects merge member by member, null deletes, anything else replaces."""
    merged = copy.deepcopy(dict(target))
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, dict):
            current = merged.get(name)
            merged[name] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def check_client_rules(
    client: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None,
    credential_types: Mapping[str, str],
) -> None:
    """The rules across fields, on a whole client as it would be stored.

    ``previous`` is the stored client a PATCH starts from (None on create);
    ``credential_types`` maps each of the client's credential ids to its type.
    """
    metadata = client.get("client_metadata") or {}
    if len(metadata) > MAX_METADATA_KEYS:
        raise invalid_body(
            f"Too many properties defined ({len(metadata)}), maximum {MAX_METADATA_KEYS}",
            "client_metadata",
        )
    refresh_token = client.get("refresh_token")
    if isinstance(refresh_token, dict):
        for name in _REFRESH_TOKEN.required:
            if name not in refresh_token:
                raise invalid_body(f"Missing required property: {name}", "refresh_token")
    _check_authentication(client, credential_types)
    _check_organizations(client, previous)
    _check_third_party(client, previous)
    if client.get("external_metadata_type") == "cimd":
        _check_cimd_values(client)


def _check_authentication(client: Mapping[str, Any], credential_types: Mapping[str, str]) -> None:
    methods = client.get("client_authentication_methods") or {}
    if methods and client.get("token_endpoint_auth_method") is not None:
        raise invalid_body(
            "token_endpoint_auth_method and client_authentication_methods are mutually "
            "exclusive: set token_endpoint_auth_method to null to authenticate with credentials",
            "token_endpoint_auth_method",
        )
    for method, config in methods.items():
        path = f"client_authentication_methods.{method}"
        if "credentials" not in config:
            raise invalid_body("Missing required property: credentials", path)
        expected = CREDENTIAL_TYPE_FOR_METHOD[method]
        for index, reference in enumerate(config["credentials"]):
            credential_id = reference["id"]
            found = credential_types.get(credential_id)
            if found is None:
                raise invalid_body(
                    f"Credential {credential_id} does not exist for this client",
                    f"{path}.credentials[{index}].id",
                )
            if found != expected:
                raise invalid_body(
                    f"Credential {credential_id} is a {found} credential; {method} takes "
                    f"{expected} credentials",
                    f"{path}.credentials[{index}].id",
                )
    if "private_key_jwt" in methods:
        alg = (client.get("jwt_configuration") or {}).get("alg")
        if alg not in ASYMMETRIC_JWT_ALGS:
            raise invalid_body(
                "private_key_jwt needs jwt_configuration.alg set to an asymmetric algorithm "
                f"({', '.join(ASYMMETRIC_JWT_ALGS)}), found {json.dumps(alg)}",
                "jwt_configuration.alg",
            )


def _check_organizations(client: Mapping[str, Any], previous: Mapping[str, Any] | None) -> None:
    if client.get("organization_discovery_methods") and (
        client.get("organization_require_behavior") != "pre_login_prompt"
    ):
        raise invalid_body(
            'organization_discovery_methods needs organization_require_behavior "pre_login_prompt"',
            "organization_discovery_methods",
        )
    becomes_third_party = (
        previous is not None
        and previous.get("is_first_party") is not False
        and client.get("is_first_party") is False
    )
    organization_settings = [
        name
        for name in ("organization_usage", "organization_require_behavior")
        if client.get(name) is not None
    ]
    if becomes_third_party and organization_settings:
        raise invalid_body(
            "is_first_party can become false only once "
            f"{' and '.join(organization_settings)} are unset",
            "is_first_party",
        )


def _check_third_party(client: Mapping[str, Any], previous: Mapping[str, Any] | None) -> None:
    if "redirection_policy" in client and not (
        client.get("is_first_party") is False
        and client.get("third_party_security_mode") == "strict"
    ):
        raise invalid_body(
            "redirection_policy applies only to third-party clients "
            '(is_first_party false) in third_party_security_mode "strict"',
            "redirection_policy",
        )
    if (
        previous is None
        and "resource_server_identifier" in client
        and client.get("app_type") != "resource_server"
    ):
        raise invalid_body(
            'resource_server_identifier needs app_type "resource_server"',
            "resource_server_identifier",
        )


def _check_cimd_values(client: Mapping[str, Any]) -> None:
    if client.get("app_type") not in CIMD_APP_TYPES:
        raise invalid_body(f"No enum match for: {json.dumps(client.get('app_type'))}", "app_type")
    for index, grant in enumerate(client.get("grant_types") or []):
        if grant not in CIMD_GRANT_TYPES:
            raise invalid_body(f"No enum match for: {json.dumps(grant)}", f"grant_types[{index}]")
    alg = (client.get("jwt_configuration") or {}).get("alg")
    if alg is not None and alg not in ASYMMETRIC_JWT_ALGS:
        raise invalid_body(f"No enum match for: {json.dumps(alg)}", "jwt_configuration.alg")
    if client.get("oidc_conformant") is not True:
        raise invalid_body(
            "A client registered from a Client ID Metadata Document must stay OIDC conformant",
            "oidc_conformant",
        )
    refresh_token = client.get("refresh_token") or {}
    if refresh_token and refresh_token.get("expiration_type") != "expiring":
        raise invalid_body(
            'A client registered from a Client ID Metadata Document needs "expiring" '
            "refresh tokens",
            "refresh_token.expiration_type",
        )
    if refresh_token.get("infinite_idle_token_lifetime"):
        raise invalid_body(
            "A client registered from a Client ID Metadata Document cannot have an infinite "
            "idle token lifetime",
            "refresh_token.infinite_idle_token_lifetime",
        )


# -- credentials -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCredential:
    """A checked credential body, with what the server derives from its key material."""

    credential_type: str
    name: str | None
    pem: str | None
    alg: str | None
    kid: str | None
    subject_dn: str | None
    thumbprint_sha256: str | None
    expires_at: str | None

    def record(self, credential_id: str, now: str) -> JsonObject:
        """The stored credential: its public view plus ``pem``."""
        stored: JsonObject = {"id": credential_id}
        optional = {
            "name": self.name,
            "credential_type": self.credential_type,
            "kid": self.kid,
            "alg": self.alg,
            "subject_dn": self.subject_dn,
            "thumbprint_sha256": self.thumbprint_sha256,
        }
        stored.update({key: value for key, value in optional.items() if value is not None})
        stored["created_at"] = now
        stored["updated_at"] = now
        if self.expires_at is not None:
            stored["expires_at"] = self.expires_at
        if self.pem is not None:
            stored["pem"] = self.pem
        return stored


def check_new_credential(body: object, path: str = "") -> NewCredential:
    """A POST /clients/{id}/credentials body (or an inline one on POST /clients), checked."""
    check(body, _NEW_CREDENTIAL, path)
    assert isinstance(body, dict)
    credential_type: str = body["credential_type"]
    for name in body:
        if name not in _MEMBERS_BY_CREDENTIAL_TYPE[credential_type]:
            raise invalid_body(f"Additional properties not allowed: {name}", path)
    parse_expiry = bool(body.get("parse_expiry_from_cert"))
    if parse_expiry and "expires_at" in body:
        raise invalid_body("expires_at and parse_expiry_from_cert are mutually exclusive", path)
    pem: str | None = body.get("pem")
    if pem is None and credential_type != "cert_subject_dn":
        raise invalid_body("Missing required property: pem", path)
    if credential_type == "cert_subject_dn" and pem is None and "subject_dn" not in body:
        raise invalid_body("Missing required property: subject_dn", path)
    key, certificate = _read_pem(pem, _join(path, "pem")) if pem is not None else (None, None)
    if credential_type != "public_key" and pem is not None and certificate is None:
        raise invalid_body(f"A {credential_type} credential needs an X.509 certificate", path)
    expires_at = body.get("expires_at")
    if parse_expiry:
        if certificate is None:
            raise invalid_body("parse_expiry_from_cert needs a certificate in pem", path)
        expires_at = format_timestamp(certificate.not_valid_after_utc)
    elif expires_at is not None:
        expires_at = format_timestamp(datetime.fromisoformat(expires_at))
    subject_dn = body.get("subject_dn")
    if subject_dn is None and certificate is not None and credential_type != "public_key":
        subject_dn = certificate.subject.rfc4514_string()
    is_public_key = credential_type == "public_key"
    return NewCredential(
        credential_type=credential_type,
        name=body.get("name"),
        pem=pem,
        alg=body.get("alg", "RS256") if is_public_key else None,
        kid=body.get("kid") or (_jwk_thumbprint(key) if is_public_key and key else None),
        subject_dn=subject_dn,
        thumbprint_sha256=_certificate_thumbprint(certificate) if certificate else None,
        expires_at=expires_at,
    )


def check_credential_patch(body: object) -> JsonObject:
    """A PATCH /clients/{id}/credentials/{id} body: only ``expires_at`` may change."""
    check(body, _CREDENTIAL_PATCH, patch=True)
    assert isinstance(body, dict)
    expires_at = body.get("expires_at")
    if expires_at is None:
        return {"expires_at": None} if "expires_at" in body else {}
    return {"expires_at": format_timestamp(datetime.fromisoformat(expires_at))}


def _read_pem(pem: str, path: str) -> tuple[rsa.RSAPublicKey, x509.Certificate | None]:
    data = pem.strip().encode("utf-8", "replace")
    if re.search(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", data):
        raise invalid_body("pem holds a private key: send only the public key or certificate", path)
    certificate: x509.Certificate | None = None
    key: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certificate = x509.load_pem_x509_certificate(data)
            key = certificate.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise invalid_body("pem is not a PEM public key or X.509 certificate", path) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise invalid_body("pem must hold an RSA key", path)
    if key.key_size < MIN_RSA_BITS:
        raise invalid_body(
            f"pem holds a {key.key_size}-bit RSA key; the minimum is {MIN_RSA_BITS} bits", path
        )
    return key, certificate


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _jwk_thumbprint(key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 thumbprint: what Auth0 uses as the kid when none is given."""
    numbers = key.public_numbers()

    def unsigned(value: int) -> str:
        return _base64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    members = {"e": unsigned(numbers.e), "kty": "RSA", "n": unsigned(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _base64url(hashlib.sha256(canonical.encode("ascii")).digest())


def _certificate_thumbprint(certificate: x509.Certificate) -> str:
    return _base64url(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def format_timestamp(moment: datetime) -> str:
    """Auth0's timestamp form: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- GET /clients query string ---------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """``fields`` and ``include_fields``: which members of each client to answer."""

    fields: frozenset[str]
    include: bool

    def apply(self, client: Mapping[str, Any]) -> JsonObject:
        if self.include:
            # Auth0 answers the tenant with every projection, asked for or not.
            return {k: v for k, v in client.items() if k in self.fields or k == "tenant"}
        return {k: v for k, v in client.items() if k not in self.fields}


@dataclass(frozen=True)
class ClientQuery:
    page: int
    per_page: int
    include_totals: bool
    projection: Projection | None
    is_global: bool | None
    is_first_party: bool | None
    app_types: tuple[str, ...]
    external_client_id: str | None


def parse_client_query(
    *,
    page: object,
    per_page: object,
    include_totals: object,
    fields: object,
    include_fields: object,
    is_global: object,
    is_first_party: object,
    app_type: object,
    external_client_id: object,
) -> ClientQuery:
    """GET /clients parameters as a query string (or typed values) gives them."""
    app_types = _query_text(app_type, "app_type")
    return ClientQuery(
        page=_query_integer(page, "page", default=0, minimum=0),
        per_page=_query_integer(per_page, "per_page", default=50, minimum=0, maximum=100),
        include_totals=bool(_query_boolean(include_totals, "include_totals")),
        projection=parse_projection(fields, include_fields),
        is_global=_query_boolean(is_global, "is_global"),
        is_first_party=_query_boolean(is_first_party, "is_first_party"),
        app_types=tuple(t.strip() for t in (app_types or "").split(",") if t.strip()),
        external_client_id=_query_text(external_client_id, "external_client_id"),
    )


def parse_projection(fields: object, include_fields: object) -> Projection | None:
    include = _query_boolean(include_fields, "include_fields")
    names = frozenset(
        name.strip() for name in (_query_text(fields, "fields") or "").split(",") if name.strip()
    )
    if not names:
        return None
    return Projection(names, include is not False)


def _query_integer(
    value: object, name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    if value is None:
        return default
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise _query_error(f"Expected type integer but found type {json_type(value)}", name)
    if number < minimum:
        raise _query_error(f"Value {number} is less than minimum {minimum}", name)
    if maximum is not None and number > maximum:
        raise _query_error(f"Value {number} is greater than maximum {maximum}", name)
    return number


def _query_boolean(value: object, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise _query_error(f"Expected type boolean but found type {json_type(value)}", name)


def _query_text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _query_error(f"Expected type string but found type {json_type(value)}", name)
