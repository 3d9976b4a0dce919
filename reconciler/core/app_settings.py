"""Auth0's values and rules for an app's login, native, request-security and token
settings, held once for lint (which says them at manifest locations) and the embedded
tenant (which answers them as Auth0 words a refusal).

Values are go-auth0's generated enums (``management/clients.go``, v3.1.0, from Auth0's API
definition); each rule names the Auth0 guide it comes from.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = [
    "AUTH0_DOMAINS",
    "COMPLIANCE_LEVELS",
    "LOGOUT_INITIATORS",
    "MANAGEMENT_API",
    "MAX_LOGOUT_URLS",
    "REQUIRED_LOGOUT_INITIATORS",
    "TOKEN_EXCHANGE_TYPES",
    "logout_url_problem",
]

#: ClientOidcBackchannelLogoutInitiatorsEnum.
LOGOUT_INITIATORS = (
    "rp-logout",
    "idp-logout",
    "password-changed",
    "session-expired",
    "session-revoked",
    "account-deleted",
    "email-identifier-changed",
    "mfa-phone-unenrolled",
    "account-deactivated",
)
#: In ``custom`` mode: "rp-logout and idp-logout are required" (Auth0 docs
#: oidc-back-channel-logout-initiators.mdx, the example that selects password-changed).
REQUIRED_LOGOUT_INITIATORS = ("rp-logout", "idp-logout")
#: "Currently only one URL is allowed" (go-auth0 ClientOidcBackchannelLogoutSettings).
MAX_LOGOUT_URLS = 1
#: Domains a back-channel logout URL may not be on, nor on their subdomains (Auth0 docs
#: configure-back-channel-logout.mdx, "Back-Channel Logout restrictions").
AUTH0_DOMAINS = ("auth0.com", "auth0app.com", "webtask.io", "webtask.run")
#: ClientTokenExchangeTypeEnum.
TOKEN_EXCHANGE_TYPES = ("custom_authentication", "on_behalf_of_token_exchange")
#: ClientComplianceLevelEnum (Terraform's provider still lists only the first three).
COMPLIANCE_LEVELS = (
    "none",
    "fapi1_adv_pkj_par",
    "fapi1_adv_mtls_par",
    "fapi2_sp_pkj_mtls",
    "fapi2_sp_mtls_mtls",
)
#: Auth0's Management API, whose audience is the canonical domain even on a custom domain.
MANAGEMENT_API = re.compile(r"^https://[^/]+\.auth0\.com/api/v2/?$", re.IGNORECASE)


def logout_url_problem(url: str) -> str:
    """Why Auth0 would not call ``url`` for back-channel logout ("" when it would): https
    only, on no Auth0 domain, and no private, reserved or loopback address (Auth0 docs
    configure-back-channel-logout.mdx; its own PATCH example shows an http URL, so the
    stricter reading, the restrictions list, is the one held)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return f"back-channel logout URL {url!r} is not a valid URL"
    if parts.scheme != "https" or not host:
        return f"back-channel logout URL {url!r} must be an absolute https URL"
    if any(host == domain or host.endswith("." + domain) for domain in AUTH0_DOMAINS):
        return f"back-channel logout URL {url!r} must not be on an Auth0 domain"
    if host == "localhost" or host.endswith(".localhost"):
        return f"back-channel logout URL {url!r} must not be a loopback address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if not address.is_global:
        return f"back-channel logout URL {url!r} must not be a private or loopback address"
    return ""
