"""Fixtures for the Auth0 tests: `reconciler serve` over TLS, and auth0-python reading it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth0_sdk import SdkReader, TlsServe


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as running:
        yield running


@pytest.fixture
def reader(served: TlsServe) -> Iterator[SdkReader]:
    sdk = served.reader()
    yield sdk
    sdk.close()
