"""What Auth0 fills in on a new client whose body leaves a member out (recorded from a
live tenant; a strict third-party client's from a CIMD client and Auth0's security
controls): the embedded tenant makes its clients so, and export and adopt leave out of a
minimal manifest entry what says no more than these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "FIRST_PARTY_REFRESH_TOKEN",
    "NEW_CLIENT_DEFAULTS",
    "PUBLIC_APP_TYPES",
    "THIRD_PARTY_JWT_LIFETIME_SECONDS",
    "third_party_refresh_token",
]

FIRST_PARTY_REFRESH_TOKEN: Mapping[str, Any] = {
    "rotation_type": "non-rotating",
    "expiration_type": "non-expiring",
    "leeway": 0,
    "token_lifetime": 2592000,
    "infinite_token_lifetime": True,
    "infinite_idle_token_lifetime": True,
    "idle_token_lifetime": 1296000,
}
NEW_CLIENT_DEFAULTS: Mapping[str, Any] = {
    "is_first_party": True,
    "is_token_endpoint_ip_header_trusted": False,
    "oidc_conformant": False,
    "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
    "sso_disabled": False,
    "cross_origin_authentication": False,
    "custom_login_page_on": True,
    "refresh_token": FIRST_PARTY_REFRESH_TOKEN,
}
#: A strict third-party client's ID tokens last 3600 s by default, signed RS256.
THIRD_PARTY_JWT_LIFETIME_SECONDS = 3600
#: The app types whose third-party refresh tokens rotate.
PUBLIC_APP_TYPES = ("spa", "native")


def third_party_refresh_token(*, rotating: bool) -> dict[str, Any]:
    """The refresh tokens of a strict third-party client: they must expire; a public
    client's (spa, native) and a CIMD client's (as recorded) rotate."""
    return {
        **FIRST_PARTY_REFRESH_TOKEN,
        "rotation_type": "rotating" if rotating else "non-rotating",
        "expiration_type": "expiring",
        "infinite_token_lifetime": False,
        "infinite_idle_token_lifetime": False,
    }
