"""Peers for the DCR tests: node-oidc-provider, started once per test session per mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.registries.dcr.registry import DcrRegistry, open_dcr
from tests.peers import oidc_provider
from tests.registries.dcr.support import INITIAL_ACCESS_TOKEN, Opener


@pytest.fixture(scope="session")
def issuer() -> Iterator[str]:
    with oidc_provider() as running:
        yield running


@pytest.fixture(scope="session")
def iat_issuer() -> Iterator[str]:
    with oidc_provider({"IAT": INITIAL_ACCESS_TOKEN}) as running:
        yield running


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / ".reconciler" / "dcr-state.json"


@pytest.fixture
def registry(issuer: str, state_path: Path) -> Iterator[DcrRegistry]:
    opened = open_dcr(f"dcr+{issuer}?state={state_path}", environ={})
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def steady_issuer() -> Iterator[str]:
    """A peer that keeps the registration access token across updates (ROTATE_RAT=0)."""
    with oidc_provider({"ROTATE_RAT": "0"}) as running:
        yield running


@pytest.fixture
def opener() -> Iterator[Opener]:
    """Opens registries on a given issuer and state file; closes them after the test."""
    opened: list[DcrRegistry] = []

    def open_one(issuer: str, state: Path, environ: dict[str, str] | None = None) -> DcrRegistry:
        registry = open_dcr(f"dcr+{issuer}?state={state}", environ=environ or {})
        opened.append(registry)
        return registry

    yield open_one
    for registry in opened:
        registry.close()
