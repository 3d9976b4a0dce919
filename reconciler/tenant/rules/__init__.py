"""What the embedded tenant accepts: Auth0's client and credential rules, with Auth0's words.

Auth0 validates request bodies against a JSON Schema and answers the first problem as
``Payload validation error: '<detail>' on property <path>.`` (400 ``invalid_body``), and
query strings likewise as ``Query validation error: ...`` (400 ``invalid_query_string``).
The small schema language produces the same details, so a caller of the embedded tenant
reads what the real API would have said. Rules a schema cannot express (fields that
exclude each other, credential references, CIMD restrictions) follow the schemas.

This package gathers the rules the tenant applies:

clients.py      client bodies and the rules across a client's fields
third_party.py  what a third-party client may be (strict mode), and no first/third switch
credentials.py  credential bodies and what their key material gives
cimd.py         clients registered from a Client ID Metadata Document
settings.py     logout, native, signed-request and token settings, and their rules
tenant_settings.py  the tenant settings the embedded tenant holds (CIMD support)

and re-exports what they need from ``tenant/schema.py`` (the schema language,
``invalid_body`` and ``merge_patch``) and ``tenant/query.py`` (the GET /clients query).
"""

from __future__ import annotations

from reconciler.core.cimd_fields import CIMD_GRANT_TYPES
from reconciler.tenant.query import (
    ClientQuery,
    Projection,
    parse_client_query,
    parse_projection,
)
from reconciler.tenant.rules.cimd import (
    check_cimd_patch,
    cimd_mapped_fields,
)
from reconciler.tenant.rules.clients import (
    DEFAULT_GRANT_TYPES,
    check_client_patch,
    check_client_rules,
    check_new_client,
)
from reconciler.tenant.rules.credentials import (
    NewCredential,
    check_credential_patch,
    check_new_credential,
    check_room,
    format_timestamp,
)
from reconciler.tenant.rules.tenant_settings import (
    CIMD_SUPPORTED,
    DEFAULT_TENANT_SETTINGS,
    check_tenant_settings,
)
from reconciler.tenant.rules.third_party import check_third_party_body, is_strict_third_party
from reconciler.tenant.schema import JsonObject, invalid_body, json_type, merge_patch

__all__ = [
    "CIMD_GRANT_TYPES",
    "CIMD_SUPPORTED",
    "DEFAULT_GRANT_TYPES",
    "DEFAULT_TENANT_SETTINGS",
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
    "check_room",
    "check_tenant_settings",
    "check_third_party_body",
    "cimd_mapped_fields",
    "format_timestamp",
    "invalid_body",
    "is_strict_third_party",
    "json_type",
    "merge_patch",
    "parse_client_query",
    "parse_projection",
]
