"""The records the embedded tenant makes itself, filled in as a live Auth0 tenant fills them.

A new client's server defaults (a strict third-party client's own), the client a Client
ID Metadata Document registers, the tenant's global client and signing key, and the ids,
secrets and timestamps they carry.
"""

from __future__ import annotations

import copy
import secrets
import string
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from reconciler.core.defaults import (
    NEW_CLIENT_DEFAULTS,
    PUBLIC_APP_TYPES,
    THIRD_PARTY_JWT_LIFETIME_SECONDS,
    third_party_refresh_token,
)
from reconciler.tenant.rules import DEFAULT_GRANT_TYPES, JsonObject, format_timestamp

__all__ = [
    "GLOBAL_CLIENT_NAME",
    "global_client",
    "with_legacy_logout",
    "make_signing_key",
    "new_cimd_client",
    "new_client",
    "new_credential_id",
    "new_secret",
    "now_timestamp",
]

GLOBAL_CLIENT_NAME = "All Applications"
_ALPHANUMERIC = string.ascii_letters + string.digits

#: What POST /clients fills in when the body leaves it out (``core/defaults.py``).
_CLIENT_DEFAULTS: JsonObject = {
    **copy.deepcopy(dict(NEW_CLIENT_DEFAULTS)),
    "grant_types": list(DEFAULT_GRANT_TYPES),
}
#: What a strict third-party client gets in place of the first-party defaults. Auth0's
#: security controls: RS256 ID tokens lasting 3600 s by default, expiring refresh tokens
#: that rotate for public clients (spa, native); no implicit grant. The default grants
#: are not documented: these are the two every strict third-party app may use.
_THIRD_PARTY_DEFAULTS: JsonObject = {
    "jwt_configuration": {
        "secret_encoded": False,
        "alg": "RS256",
        "lifetime_in_seconds": THIRD_PARTY_JWT_LIFETIME_SECONDS,
    },
    "grant_types": ["authorization_code", "refresh_token"],
    "third_party_security_mode": "strict",
}


def new_client(
    tenant_name: str,
    name: str,
    *,
    client_id: str | None,
    client_secret: str | None,
    signing_key: JsonObject,
    third_party: bool = False,
    app_type: str | None = None,
) -> JsonObject:
    """A client as POST /clients starts it: server defaults, a new id and secret if none.
    A strict ``third_party`` client gets a ``tpc_`` id and the third-party defaults."""
    client: JsonObject = {
        "tenant": tenant_name,
        "global": False,
        "name": name,
        "client_id": client_id or (_third_party_id() if third_party else _random_id(32)),
        "client_secret": client_secret or new_secret(),
        **copy.deepcopy(_CLIENT_DEFAULTS),
        "signing_keys": [signing_key],
    }
    if third_party:
        client.update(copy.deepcopy(_THIRD_PARTY_DEFAULTS))
        client["refresh_token"] = third_party_refresh_token(rotating=app_type in PUBLIC_APP_TYPES)
    return client


def new_cimd_client(tenant_name: str, mapped: JsonObject, signing_key: JsonObject) -> JsonObject:
    """The client registering a Client ID Metadata Document makes from its mapped fields."""
    optional: JsonObject = {
        k: mapped[k] for k in ("logo_uri", "description", "jwks_uri") if k in mapped
    }
    return {
        "tenant": tenant_name,
        "global": False,
        "name": mapped["name"],
        "client_id": _third_party_id(),
        "client_secret": new_secret(),
        "app_type": mapped["app_type"],
        "is_first_party": False,
        "is_token_endpoint_ip_header_trusted": False,
        "oidc_conformant": True,
        "callbacks": mapped["callbacks"],
        "jwt_configuration": {
            "secret_encoded": False,
            "alg": "RS256",
            "lifetime_in_seconds": THIRD_PARTY_JWT_LIFETIME_SECONDS,
        },
        "signing_keys": [signing_key],
        "sso_disabled": False,
        "cross_origin_authentication": False,
        "grant_types": mapped["grant_types"],
        "custom_login_page_on": True,
        "token_endpoint_auth_method": mapped["token_endpoint_auth_method"],
        "refresh_token": third_party_refresh_token(rotating=True),
        "third_party_security_mode": "strict",
        **optional,
        "external_client_id": mapped["external_client_id"],
        "external_metadata_type": "cimd",
        "external_metadata_created_by": "admin",
    }


def global_client(tenant_name: str, signing_key: JsonObject) -> JsonObject:
    """The tenant's own "All Applications" client, which every tenant has."""
    return {
        "tenant": tenant_name,
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
        "client_secret": new_secret(),
        "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
        "signing_keys": [signing_key],
        "custom_login_page_on": True,
    }


def with_legacy_logout(client: JsonObject) -> JsonObject:
    """The client with ``oidc_backchannel_logout``, the deprecated member Auth0 still
    answers beside ``oidc_logout``, holding the same URLs (go-auth0 recording
    TestClient_CreateWithOIDCLogout, January 2025)."""
    logout = client.get("oidc_logout")
    if not isinstance(logout, dict) or "backchannel_logout_urls" not in logout:
        return client
    urls = list(logout["backchannel_logout_urls"])
    return {**client, "oidc_backchannel_logout": {"backchannel_logout_urls": urls}}


def new_secret() -> str:
    return secrets.token_urlsafe(48)  # 64 characters


def new_credential_id() -> str:
    return "cred_" + _random_id(22)


def now_timestamp() -> str:
    return format_timestamp(datetime.now(UTC))


def _third_party_id() -> str:
    """Auth0 gives third-party clients a ``tpc_`` id (22 characters after the prefix)."""
    return "tpc_" + _random_id(22)


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


@cache
def _signing_private_key() -> rsa.RSAPrivateKey:
    # Key generation is the slow part; nothing is ever signed with it, so one per process does.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_signing_key(tenant_name: str) -> JsonObject:
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
