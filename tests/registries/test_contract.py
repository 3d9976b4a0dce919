"""Every shipped backend is a Registry and declares its capabilities as base.py says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.registries import Connection, base, open_registry
from reconciler.registries.base import (
    HoldsGrants,
    Operation,
    ReadsSecrets,
    Registry,
    RotatesSecrets,
)

#: The members of Registry a backend may leave to their defaults.
OPTIONAL = (
    "close",
    "header_notes",
    "orphans",
    "preview_cimd",
    "check_permissions",
    "cimd_note",
    "cimd_support",
    "rotation_unsupported",
    "unheld_fields",
    "holds_scope",
)


def declared_in_the_docstring() -> dict[str, list[str]]:
    """The rows of base.py's table of shipped backends, by scheme (a line that names no
    scheme continues the row above)."""
    lines = (base.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["backend", "reads"])
    rows: dict[str, list[str]] = {}
    scheme = ""
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        first, *declared = line.split()
        if ":" in first:
            scheme = first
            rows[scheme] = declared
        else:
            rows[scheme] += [first, *declared]
    return rows


def uri_for(scheme: str, tmp_path: Path) -> str:
    return {
        "sqlite:": f"sqlite:{tmp_path / 'registry.db'}",
        "auth0://": "auth0://tenant.example.auth0.com",
        "dcr+https://": "dcr+https://issuer.example",
    }[scheme]


@pytest.fixture(params=sorted(declared_in_the_docstring()))
def shipped(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Registry, list[str]]]:
    """A backend opened as a command opens it (nothing is sent), and its table row."""
    monkeypatch.setenv("AUTH0_TOKEN", "token")
    scheme = str(request.param)
    registry = open_registry(
        uri_for(scheme, tmp_path), Connection(root=tmp_path, read_only=True, lock=False)
    )
    yield registry, declared_in_the_docstring()[scheme]
    registry.close()


def overridden(registry: Registry) -> list[str]:
    """The optional members whose default this backend replaces."""
    found = []
    for name in OPTIONAL:
        default = getattr(Registry, name)
        if callable(default):
            replaced = getattr(type(registry), name) is not default
        else:
            replaced = getattr(registry, name) != default
        if replaced:
            found.append(name)
    return found


def test_every_shipped_backend_is_in_the_table() -> None:
    assert sorted(declared_in_the_docstring()) == ["auth0://", "dcr+https://", "sqlite:"]


def test_a_shipped_backend_declares_what_the_table_says(
    shipped: tuple[Registry, list[str]],
) -> None:
    registry, (reads, rotates, grants, writes, *overrides) = shipped
    assert isinstance(registry, Registry)
    assert isinstance(registry, ReadsSecrets) == (reads == "yes")
    assert isinstance(registry, RotatesSecrets) == (rotates == "yes")
    assert isinstance(registry, HoldsGrants) == (grants == "yes")
    assert registry.write_parallelism == int(writes)
    assert overridden(registry) == [name for name in OPTIONAL if name in overrides]
    assert set(overrides) <= set(OPTIONAL)


def test_the_defaults_are_neutral(tmp_path: Path) -> None:
    """What a backend that overrides nothing answers: nothing to note, one write at a time."""
    registry = open_registry(uri_for("sqlite:", tmp_path), Connection(read_only=True))
    try:
        assert registry.header_notes() == ()
        assert registry.orphans() == ()
        assert registry.preview_cimd("https://app.example.com/client.json") is None
        assert registry.check_permissions({Operation.DELETE_APPS: ["web"]}) is None
        assert registry.cimd_note is None
        assert registry.write_parallelism == 1
        assert Registry.unheld_fields == frozenset() and not Registry.holds_scope
    finally:
        registry.close()
