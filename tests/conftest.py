from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trustme

from reconciler.plan import Plan
from reconciler.schema import PLAN_SCHEMA, load_schema
from tests.cimd_server import HOST, DocumentServer

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


_PLAN_VALIDATOR = jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA))


@pytest.fixture(autouse=True)
def every_plan_matches_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plan document the suite produces (saved, --format json, in-process) is checked.

    ``Plan.to_data`` is what ``to_json`` and ``render_json`` print, so wrapping it covers
    creates, refreshes, conflicts, deliveries and partial runs wherever a test makes them.
    """
    produce = Plan.to_data

    def validated(plan: Plan) -> dict[str, Any]:
        data = produce(plan)
        errors = sorted(_PLAN_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            where = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
            )
            raise AssertionError(f"plan does not match schemas/plan.schema.json: {where}")
        return data

    monkeypatch.setattr(Plan, "to_data", validated)
