from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings

from reconciler.manifests.schema import (
    MANIFEST_SCHEMA,
    _fast_check,
    _validator,
    is_valid,
    load_schema,
)
from tests.manifests.test_fuzz_validate import documents


@settings(max_examples=300, deadline=None)
@given(documents)
def test_fast_path_agrees_with_full_validator(document: Any) -> None:
    """The compiled fast check may never call valid what the full validator rejects."""
    full = not any(True for _ in _validator(MANIFEST_SCHEMA).iter_errors(document))
    assert is_valid(MANIFEST_SCHEMA, document) == full


def test_cimd_app_needs_no_name() -> None:
    assert is_valid(MANIFEST_SCHEMA, {"apps": {"p": {"cimd": "https://x.example/c.json"}}})
    assert not is_valid(MANIFEST_SCHEMA, {"apps": {"p": {"name": "x"}}})


def test_validating_a_manifest_never_fills_in_the_documented_defaults() -> None:
    app = {"cimd": "https://x.example/c.json"}
    assert is_valid(MANIFEST_SCHEMA, {"apps": {"p": app}})
    assert app == {"cimd": "https://x.example/c.json"}


def test_validating_leaves_the_loaded_schema_as_it_was() -> None:
    """fastjsonschema rewrites the $refs it resolves in place; the cached schema is shared."""
    before = copy.deepcopy(load_schema(MANIFEST_SCHEMA))
    check = _fast_check.__wrapped__(MANIFEST_SCHEMA)  # compile anew, past the cache
    check({"apps": {"p": {"name": "P", "type": "spa"}}})
    assert load_schema(MANIFEST_SCHEMA) == before
