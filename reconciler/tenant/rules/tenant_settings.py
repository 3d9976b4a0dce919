"""The tenant settings the embedded tenant holds: those the reconciler reads.

Auth0's ``GET /api/v2/tenants/settings`` answers dozens of members; this tenant holds
``client_id_metadata_document_supported``, the "Client ID Metadata Document Registration"
toggle that registering a CIMD document needs (Auth0's
``register-applications-with-cimd.mdx``, "Tenant configuration"; Terraform's
``auth0_client_cimd`` "Requires the client_id_metadata_document_supported tenant setting").
An admin turns it on, so a new tenant has it off.
"""

from __future__ import annotations

from reconciler.tenant.schema import FLAG, JsonObject, check, object_rule

__all__ = ["CIMD_SUPPORTED", "DEFAULT_TENANT_SETTINGS", "check_tenant_settings"]

CIMD_SUPPORTED = "client_id_metadata_document_supported"
DEFAULT_TENANT_SETTINGS: JsonObject = {CIMD_SUPPORTED: False}
_SETTINGS = object_rule({CIMD_SUPPORTED: FLAG})


def check_tenant_settings(body: object) -> JsonObject:
    """Settings to change (members it leaves out keep their values), checked."""
    check(body, _SETTINGS)
    assert isinstance(body, dict)
    return body
