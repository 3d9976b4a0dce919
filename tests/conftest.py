from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from reconciler.core.plan import Plan
from tests.cimd_server import HOST, DocumentServer
from tests.helpers import check_plan_document

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[DocumentServer]:
    certificate = ca.issue_cert(HOST, "*.test.example", "localhost", "127.0.0.1")
    with DocumentServer(certificate) as running:
        yield running


@pytest.fixture
def trust(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


@pytest.fixture(autouse=True)
def every_plan_matches_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plan document the suite produces (saved, --format json, in-process) is checked.

    ``Plan.to_data`` is what ``to_json`` and ``render_json`` print, so wrapping it covers
    creates, refreshes, conflicts, deliveries and partial runs wherever a test makes them.
    Plans printed by subprocesses are parsed with ``tests.helpers.plan_document``.
    """
    produce = Plan.to_data

    def validated(plan: Plan) -> dict[str, Any]:
        data = produce(plan)
        check_plan_document(data)
        return data

    monkeypatch.setattr(Plan, "to_data", validated)
