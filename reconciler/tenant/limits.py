"""Auth0's entity limits: the most applications, grants, APIs, connections and
credentials a tenant of each plan may hold (docs ``entity-limit-policy.mdx``).

A create past a limit is refused as Auth0 refuses it: 403 "You reached the limit of
entities of this type for this tenant." with errorCode ``too_many_entities`` (the
status and message in Terraform's error, ministryofjustice/cloud-platform#1995; the
errorCode in a probe of a free tenant at its 10 applications recorded by its owners).
The global client is not an application; every other client is, third-party and CIMD
ones included. Essentials and Professional are Auth0's self-service plans, with one set
of limits; the docs list none for an Enterprise tenant's connections.

Credentials (private_key_jwt keys, mTLS certificates, the keys of signed authorization
requests) are an Enterprise feature: "Private Key JWT is available on Enterprise plans"
(docs ``configure-private-key-jwt.mdx``, its first callout; mTLS is part of Highly
Regulated Identity, an Enterprise add-on). Auth0's refusal on another plan is not
published; a 403 that names the plan is the stricter reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.errors import ApiError

__all__ = [
    "ENTITIES",
    "NO_LIMITS",
    "PLANS",
    "EntityLimits",
    "credentials_not_in_plan",
    "too_many_entities",
]

#: Each entity a limit counts, and its name for people.
ENTITIES = {
    "applications": "applications",
    "client_grants": "client grants",
    "resource_servers": "APIs",
    "connections": "connections",
    "credentials": "application credentials",
}


@dataclass(frozen=True)
class EntityLimits:
    """The most of each entity (a key of ``ENTITIES``) a tenant of ``plan`` may hold;
    an entity not in ``most`` has no limit."""

    plan: str | None = None
    most: Mapping[str, int] = field(default_factory=dict)
    #: Whether the plan lets an application hold credentials (Enterprise only).
    credentials: bool = True

    def limit(self, entity: str) -> int | None:
        return self.most.get(entity)


NO_LIMITS = EntityLimits()
_SELF_SERVICE = {
    "applications": 100,
    "client_grants": 10_000,
    "resource_servers": 100,
    "connections": 100,
}
PLANS: dict[str, EntityLimits] = {
    "free": EntityLimits(
        "free",
        {"applications": 10, "client_grants": 100, "resource_servers": 10, "connections": 100},
        credentials=False,
    ),
    "essentials": EntityLimits("essentials", _SELF_SERVICE, credentials=False),
    "professional": EntityLimits("professional", _SELF_SERVICE, credentials=False),
    "enterprise": EntityLimits(
        "enterprise",
        {
            "applications": 100_000,
            "client_grants": 100_000,
            "resource_servers": 100_000,
            "credentials": 2_000,
        },
    ),
}


def too_many_entities() -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        "You reached the limit of entities of this type for this tenant.",
        "too_many_entities",
    )


def credentials_not_in_plan(plan: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f"Private Key JWT and mTLS credentials are available on Enterprise plans only; "
        f"this tenant is on the {plan} plan.",
    )
