"""The order that moves an app from the credentials a registry holds to the declared ones,
for a registry that keeps them one by one and at most ``limit`` at once (Auth0: two).

Auth0's rules (``configure-private-key-jwt.mdx``, ``rotate-credentials.mdx``): a client
holds at most two credentials, enabled or not; a credential in use cannot be deleted, so
the client is pointed away from it first; only ``expires_at`` can change in place, and not
back to "never". A key's kid names one credential of a client (the SDKs: "used to uniquely
identify the credential"), so a credential replaced by one with the same material (another
``alg``, no expiry any more) goes before its replacement comes.

The order keeps the app able to authenticate: a credential is added beside the ones in
use and enabled at once when another must make room for the next; a credential in use is
removed only while another one stays enabled. The planner reads the same ``Rotation`` to
say what apply will do (``notes``) or why it cannot (``impossible``); the registry runs
its ``steps``, switches to ``final`` and removes ``retired``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.model import HeldCredential, credential_identity

__all__ = [
    "AUTHENTICATION",
    "REQUEST_SIGNING",
    "Add",
    "Enable",
    "Ref",
    "Remove",
    "Renew",
    "Rotation",
    "Step",
]

AUTHENTICATION = "authenticates with"
REQUEST_SIGNING = "signs its authorization requests with"


@dataclass(frozen=True)
class Ref:
    """A credential the app is pointed at: a held one by ``id``, or the one added under
    ``name`` (``id`` None) during this rotation."""

    name: str
    id: str | None = None


@dataclass(frozen=True)
class Renew:
    """Change a held credential's expiry in place (PATCH): the one member that can change."""

    credential: HeldCredential
    expires_at: str


@dataclass(frozen=True)
class Remove:
    """Delete a held credential that is no longer declared, to make room or free its kid."""

    credential: HeldCredential


@dataclass(frozen=True)
class Add:
    """Create the declared credential ``name``."""

    name: str


@dataclass(frozen=True)
class Enable:
    """Point the app's current authentication method at exactly these credentials."""

    credentials: tuple[Ref, ...]


Step = Renew | Remove | Add | Enable


@dataclass(frozen=True)
class Rotation:
    steps: tuple[Step, ...] = ()
    #: What the app authenticates with at the end, in declared order.
    final: tuple[Ref, ...] = ()
    #: Held credentials no longer declared, removed after the switch to ``final``.
    retired: tuple[HeldCredential, ...] = ()
    #: Why no order keeps the app able to authenticate (None: this one does).
    impossible: str | None = None
    limit: int | None = None
    #: Every credential the app authenticates with now is replaced by the switch.
    replaced_at_once: bool = False
    #: What the app does with these credentials, as the plan's words say it.
    use: str = AUTHENTICATION

    @classmethod
    def between(
        cls,
        held: Sequence[HeldCredential],
        wanted: Sequence[Mapping[str, Any]],
        *,
        limit: int | None,
        in_use: bool,
        use: str = AUTHENTICATION,
    ) -> Rotation:
        """From ``held`` to the ``wanted`` summaries (``Credential.summary``). ``in_use``:
        the app authenticates with this kind of credential before and after (a credential
        added is then enabled beside the held ones when another must make room)."""
        if limit is not None and len(wanted) > limit:
            return cls(
                impossible=f"{len(wanted)} credentials are declared and the registry holds "
                f"at most {limit} for this app",
                limit=limit,
                use=use,
            )
        pool = list(held)
        kept: dict[str, Ref] = {}
        steps: list[Step] = []
        for summary in wanted:
            match = next((h for h in pool if h.summary == summary), None)
            if match is not None:
                kept[str(summary["name"])] = Ref(match.name, match.id)
                pool.remove(match)
        for summary in wanted:
            name = str(summary["name"])
            match = next((h for h in pool if _renewable(h.summary, summary)), None)
            if name not in kept and match is not None:
                steps.append(Renew(match, str(summary["expires_at"])))
                kept[name] = Ref(match.name, match.id)
                pool.remove(match)
        enabled = [Ref(h.name, h.id) for h in held if h.enabled]
        present = len(held)
        added = [summary for summary in wanted if str(summary["name"]) not in kept]
        ready = list(kept.values())
        for index, summary in enumerate(added):
            name = str(summary["name"])
            made_room = False
            blocker = next(
                (h for h in pool if credential_identity(h.summary) == credential_identity(summary)),
                None,
            )
            while blocker is not None or (limit is not None and present >= limit):
                victim = blocker or min(pool, key=lambda h: h.enabled)
                if any(ref.id == victim.id for ref in enabled):
                    remaining = [ref for ref in enabled if ref.id != victim.id]
                    if not remaining and in_use:
                        # A declared key held but not yet enabled (added earlier in this
                        # rotation, or by a run cut off before it switched) takes over,
                        # enabled beside the victim first so that the two overlap.
                        remaining = [ref for ref in ready if ref not in enabled]
                        if remaining:
                            steps.append(Enable((*enabled, *remaining)))
                    if not remaining:
                        return cls(
                            impossible=_stranded(victim, summary, blocker, use),
                            limit=limit,
                            use=use,
                        )
                    steps.append(Enable(tuple(remaining)))
                    enabled = remaining
                steps.append(Remove(victim))
                pool.remove(victim)
                present -= 1
                made_room = True
                blocker = None
            steps.append(Add(name))
            ready.append(Ref(name))
            present += 1
            if in_use and made_room and index < len(added) - 1:
                enabled = [*enabled, Ref(name)]
                steps.append(Enable(tuple(enabled)))
        final = tuple(kept.get(str(s["name"])) or Ref(str(s["name"])) for s in wanted)
        in_use_now = {h.id for h in held if h.enabled}
        return cls(
            steps=tuple(steps),
            final=final,
            retired=tuple(pool),
            limit=limit,
            use=use,
            replaced_at_once=in_use
            and bool(in_use_now)
            and not in_use_now & {ref.id for ref in final},
        )

    @property
    def removed_first(self) -> tuple[str, ...]:
        """The held credentials removed before a declared one is added."""
        return tuple(step.credential.name for step in self.steps if isinstance(step, Remove))

    def notes(self) -> tuple[str, ...]:
        """What a reader of the plan should know about how apply rotates the credentials."""
        found = []
        removed = self.removed_first
        if removed:
            found.append(
                f"the registry holds at most {self.limit} credentials per app, so "
                f"{_names(removed)} {'is' if len(removed) == 1 else 'are'} removed before "
                "the new ones are added; the app keeps an enabled credential at every step"
            )
        renewed = [step.credential.name for step in self.steps if isinstance(step, Renew)]
        if renewed:
            found.append(f"the expiry of {_names(renewed)} changes in place")
        if self.replaced_at_once:
            found.append(
                f"every credential the app {self.use} now is replaced: each stops "
                "working during this apply, so the app must sign with a new one from then "
                "on; to rotate without downtime, declare the new key beside the old one "
                "first and remove the old one in a later change"
            )
        return tuple(found)


def _renewable(held: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """The same credential but for a new expiry, which PATCH can set (never unset)."""
    if wanted.get("expires_at") is None:
        return False
    ignore = ("expires_at",)
    return {k: v for k, v in held.items() if k not in ignore} == {
        k: v for k, v in wanted.items() if k not in ignore
    }


def _stranded(
    victim: HeldCredential, wanted: Mapping[str, Any], blocker: HeldCredential | None, use: str
) -> str:
    name = str(wanted["name"])
    if blocker is None:
        return (
            f"credential {name!r} cannot be added: the registry is at its limit of credentials "
            f"for this app and {victim.name!r}, the only one the app {use}, "
            "would have to go first; remove a credential in a separate change first"
        )
    if blocker.name != name:
        return (
            f"the registry holds the material of credential {name!r} as {blocker.name!r}, and "
            f"a credential's name cannot change: name it {blocker.name!r} in the manifest"
        )
    return (
        f"credential {name!r} keeps its key but changes what only a new credential can "
        f"(alg, or an expiry removed), and the registry holds one credential per key: the "
        f"old one would have to go first, and it is the only one the app {use}; add a "
        "second credential in a separate change first, or give this one a new key"
    )


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)
