"""The order that moves an app's credentials within a registry's limit (core/rotation.py).

Every case replays the steps over a model of the registry (what exists, what the app is
pointed at) and checks what Auth0 would check at each one: at most ``limit`` credentials,
no delete of one in use, no two with one kid; and what a user needs: an enabled credential
at every step, and one that stays enabled across each step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.core.model import HeldCredential, credential_identity
from reconciler.core.rotation import Add, Enable, Ref, Remove, Renew, Rotation


def key(name: str, kid: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kid": kid, "alg": "RS256", **extra}


def held(*summaries: dict[str, Any], enabled: bool = True) -> list[HeldCredential]:
    return [HeldCredential(f"cred_{s['name']}", s, enabled) for s in summaries]


@dataclass
class Registry:
    """What exists and what the app authenticates with, by name, as the steps run."""

    limit: int
    existing: dict[str, dict[str, Any]]
    enabled: set[str]
    history: list[frozenset[str]] = field(default_factory=list)

    def run(self, rotation: Rotation, wanted: Sequence[Mapping[str, Any]]) -> None:
        declared = {str(w["name"]): dict(w) for w in wanted}
        self.history.append(frozenset(self.enabled))
        for step in rotation.steps:
            if isinstance(step, Renew):
                self.existing[step.credential.name]["expires_at"] = step.expires_at
            elif isinstance(step, Remove):
                assert step.credential.name not in self.enabled, "deleted while in use"
                del self.existing[step.credential.name]
            elif isinstance(step, Add):
                assert len(self.existing) < self.limit, "over the limit"
                identities = {credential_identity(c) for c in self.existing.values()}
                assert credential_identity(declared[step.name]) not in identities, "kid twice"
                self.existing[f"new:{step.name}"] = declared[step.name]
            elif isinstance(step, Enable):
                self.enabled = {self._name(ref) for ref in step.credentials}
                assert self.enabled, "left without a credential"
            self.history.append(frozenset(self.enabled))
        self.enabled = {self._name(ref) for ref in rotation.final}
        self.history.append(frozenset(self.enabled))
        for retired in rotation.retired:
            del self.existing[retired.name]

    def _name(self, ref: Ref) -> str:
        name = ref.name if ref.id is not None else f"new:{ref.name}"
        assert name in self.existing, f"{name} does not exist"
        return name

    def handed_over(self) -> bool:
        """Each step keeps one credential that was enabled before it."""
        return all(a & b for a, b in zip(self.history, self.history[1:], strict=False))


def rotate(
    current: list[HeldCredential], wanted: list[dict[str, Any]], *, limit: int = 2
) -> tuple[Rotation, Registry]:
    rotation = Rotation.between(current, wanted, limit=limit, in_use=True)
    registry = Registry(
        limit,
        {c.name: dict(c.summary) for c in current},
        {c.name for c in current if c.enabled},
    )
    if rotation.impossible is None:
        registry.run(rotation, wanted)
    return rotation, registry


A, B, C, D, E = (key(n, f"kid-{n}") for n in "abcde")


def test_unchanged_credentials_need_no_step() -> None:
    rotation, _ = rotate(held(A, B), [A, B])
    assert rotation.steps == () and rotation.retired == () and rotation.notes() == ()
    assert rotation.final == (Ref("a", "cred_a"), Ref("b", "cred_b"))


def test_rotating_one_of_two_removes_the_retired_one_first() -> None:
    rotation, registry = rotate(held(A, B), [A, C])
    assert rotation.steps == (
        Enable((Ref("a", "cred_a"),)),
        Remove(held(B)[0]),
        Add("c"),
    )
    assert rotation.final == (Ref("a", "cred_a"), Ref("c"))
    assert rotation.removed_first == ("b",)
    assert registry.existing.keys() == {"a", "new:c"} and registry.handed_over()
    assert "removed before the new ones are added" in rotation.notes()[0]


def test_rotating_both_hands_over_one_at_a_time() -> None:
    rotation, registry = rotate(held(A, C), [D, E])
    assert [type(step).__name__ for step in rotation.steps] == [
        "Enable",
        "Remove",
        "Add",
        "Enable",
        "Enable",
        "Remove",
        "Add",
    ]
    assert registry.history == [
        {"a", "c"},
        {"c"},
        {"c"},
        {"c"},
        {"c", "new:d"},
        {"new:d"},
        {"new:d"},
        {"new:d"},
        {"new:d", "new:e"},
    ]
    assert registry.handed_over()
    assert any("replaced" in note for note in rotation.notes())


def test_below_the_limit_the_new_key_comes_before_the_old_goes() -> None:
    rotation, registry = rotate(held(A), [B])
    assert rotation.steps == (Add("b"),) and rotation.retired == tuple(held(A))
    assert rotation.removed_first == ()
    # A single key replaced cannot overlap: the plan says how to rotate without downtime.
    assert any("declare the new key beside the old one" in n for n in rotation.notes())
    assert not registry.handed_over()


def test_adding_a_second_key_then_dropping_the_first_never_drops_every_key() -> None:
    first, registry = rotate(held(A), [A, B])
    assert first.steps == (Add("b"),) and registry.handed_over()
    second, registry = rotate(held(A, B), [B])
    assert second.steps == () and second.retired == tuple(held(A)) and registry.handed_over()
    assert second.notes() == ()


def test_an_unused_credential_makes_room_before_one_in_use() -> None:
    leftover = held(B, enabled=False)
    rotation, registry = rotate([*held(A), *leftover], [A, C])
    assert rotation.steps == (Remove(leftover[0]), Add("c"))
    assert registry.handed_over()


def test_a_new_expiry_is_set_in_place() -> None:
    renewed = key("a", "kid-a", expires_at="2031-01-01T00:00:00.000Z")
    rotation, registry = rotate(held(A), [renewed])
    assert rotation.steps == (Renew(held(A)[0], "2031-01-01T00:00:00.000Z"),)
    assert rotation.final == (Ref("a", "cred_a"),) and rotation.retired == ()
    assert registry.existing["a"]["expires_at"] == "2031-01-01T00:00:00.000Z"
    assert rotation.notes() == ("the expiry of 'a' changes in place",)


@pytest.mark.parametrize(
    "changed",
    [
        key("a", "kid-a", alg="PS256"),  # alg cannot change on a credential
        key("a", "kid-a"),  # an expiry cannot be removed once set
    ],
)
def test_a_change_only_a_new_credential_can_make_goes_before_its_replacement(
    changed: dict[str, Any],
) -> None:
    expiring = key("a", "kid-a", expires_at="2030-01-01T00:00:00.000Z")
    rotation, registry = rotate(held(expiring, B), [changed, B])
    assert [type(step).__name__ for step in rotation.steps] == ["Enable", "Remove", "Add"]
    assert rotation.steps[0] == Enable((Ref("b", "cred_b"),))
    assert registry.handed_over()


def test_the_only_key_cannot_be_replaced_by_itself() -> None:
    rotation, _ = rotate(held(A), [key("a", "kid-a", alg="PS256")])
    assert rotation.impossible is not None
    assert "add a second credential in a separate change first" in rotation.impossible


def test_a_credential_cannot_be_renamed() -> None:
    rotation, _ = rotate(held(A), [key("renamed", "kid-a")])
    assert rotation.impossible is not None and "name it 'a' in the manifest" in rotation.impossible


def test_more_credentials_than_the_limit_are_refused() -> None:
    rotation, _ = rotate(held(A), [A, B, C])
    assert rotation.impossible == (
        "3 credentials are declared and the registry holds at most 2 for this app"
    )
    assert rotate(held(A), [A, B], limit=1)[0].impossible is not None


def test_certificates_are_known_by_their_thumbprint() -> None:
    certificate = {"name": "c", "credential_type": "x509_cert", "thumbprint_sha256": "t1"}
    renewed = {**certificate, "thumbprint_sha256": "t2"}
    rotation, registry = rotate(held(certificate, A), [renewed, A])
    assert rotation.removed_first == ("c",) and registry.handed_over()


def test_switching_in_from_a_secret_enables_nothing_before_the_switch() -> None:
    leftovers = held(A, B, enabled=False)
    rotation = Rotation.between(leftovers, [C], limit=2, in_use=False)
    assert rotation.steps == (Remove(leftovers[0]), Add("c"))
    assert rotation.final == (Ref("c"),) and rotation.retired == (leftovers[1],)
    assert rotation.notes()[0].startswith("the registry holds at most 2 credentials per app")


def test_a_rotation_cut_off_after_adding_a_key_hands_over_to_it() -> None:
    # A kill between adding "d" and enabling it: "c" is the only key in use, at the limit.
    cut_off = [*held(C), *held(D, enabled=False)]
    rotation, registry = rotate(cut_off, [D, E])
    assert rotation.impossible is None
    assert rotation.steps == (
        Enable((Ref("c", "cred_c"), Ref("d", "cred_d"))),
        Enable((Ref("d", "cred_d"),)),
        Remove(held(C)[0]),
        Add("e"),
    )
    assert registry.handed_over() and registry.existing.keys() == {"d", "new:e"}


def test_a_rotation_cut_off_after_removing_a_key_adds_one_and_hands_over_to_it() -> None:
    # A kill right after the first retired key went: one key left, two to come.
    rotation, registry = rotate(held(C), [D, E])
    assert rotation.impossible is None
    assert [type(step).__name__ for step in rotation.steps] == [
        "Add",
        "Enable",
        "Enable",
        "Remove",
        "Add",
    ]
    assert registry.handed_over() and registry.existing.keys() == {"new:d", "new:e"}
