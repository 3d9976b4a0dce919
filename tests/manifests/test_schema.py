from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.manifests.schema import (
    MANIFEST_SCHEMA,
    _validator,
    check_schema,
    is_valid,
    load_schema,
)
from reconciler.manifests.schema_code import compiled_source
from reconciler.manifests.yamlfile import load_yaml_bytes
from tests.manifests.test_fuzz_validate import documents, values

DEFINITIONS = load_schema(MANIFEST_SCHEMA)["$defs"]


def _field_values(definition: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """The schema's own examples (or enum, or any boolean) for a field: valid values."""
    if "$ref" in definition and "examples" not in definition:
        definition = DEFINITIONS[definition["$ref"].removeprefix("#/$defs/")]
    if "examples" in definition:
        return st.sampled_from(definition["examples"])
    if "enum" in definition:
        return st.sampled_from(definition["enum"])
    if definition.get("type") == "boolean":
        return st.booleans()
    return None


APP = DEFINITIONS["app"]
FIELD_VALUES = {
    name: strategy
    for name, definition in APP["properties"].items()
    if (strategy := _field_values(definition)) is not None
}
CIMD_FIELDS = set(APP["then"]["propertyNames"]["enum"]) - {"cimd", "type"}
CIMD_TYPES = APP["then"]["properties"]["type"]["enum"]


@st.composite
def app_near_the_schema(draw: st.DrawFn) -> dict[str, Any]:
    """A valid app (a name and a type, or a cimd URL) with other fields from the schema's
    examples; half the time one field's value is replaced by an arbitrary one."""
    if draw(st.booleans()):
        app = {"cimd": draw(FIELD_VALUES["cimd"]), "type": draw(st.sampled_from(CIMD_TYPES))}
        optional = sorted(CIMD_FIELDS & set(FIELD_VALUES))
    else:
        app = {"name": draw(FIELD_VALUES["name"]), "type": draw(FIELD_VALUES["type"])}
        optional = sorted(set(FIELD_VALUES) - {"cimd", "name", "type"})
    for name in sorted(draw(st.sets(st.sampled_from(optional), max_size=4))):
        app[name] = draw(FIELD_VALUES[name])
    if draw(st.booleans()):
        app[draw(st.sampled_from(sorted(app)))] = draw(values)
    return app


documents_near_the_schema = st.fixed_dictionaries(
    {
        "apps": st.dictionaries(
            st.sampled_from(["web", "m2m-1", "a.b_c"]), app_near_the_schema(), max_size=2
        )
    }
)


@settings(max_examples=300, deadline=None)
@given(documents | documents_near_the_schema)
def test_fast_path_agrees_with_full_validator(document: Any) -> None:
    """The compiled fast check may never call valid what the full validator rejects (nor
    the reverse); the documents near the schema make some of the verdicts "valid"."""
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
    compiled_source(MANIFEST_SCHEMA)
    assert load_schema(MANIFEST_SCHEMA) == before


def findings(text: str) -> list[tuple[str, str]]:
    """Every schema finding of a manifest written in YAML: (rule, line:column)."""
    file = load_yaml_bytes(text.encode("utf-8"), "apps.yaml")
    return [
        (d.rule, f"{d.location.line}:{d.location.column}")
        for d in check_schema(file, MANIFEST_SCHEMA)
    ]


M2M = "apps:\n  worker:\n    name: Worker\n    type: m2m\n"


def test_an_app_declares_its_apis_and_connections_and_a_cimd_app_may_too() -> None:
    assert (
        findings(
            M2M + "    apis:\n"
            "      - audience: https://ledger.example.com/\n"
            "        scopes: [read:entries]\n"
            "        subject_type: client\n"
            "        organization_usage: allow\n"
            "        allow_any_organization: true\n"
            "    connections: [Username-Password-Authentication]\n"
        )
        == []
    )
    cimd = "apps:\n  p:\n    cimd: https://p.example/c.json\n"
    cimd += "    apis: [{audience: https://ledger.example.com/, subject_type: user}]\n"
    assert findings(cimd + "    connections: [google-oauth2]\n") == []


@pytest.mark.parametrize(
    ("apis", "expected"),
    [
        ("[{scopes: [read:x]}]", [("required-field", "5:12")]),
        ("[{audience: ''}]", [("minlength", "5:23")]),
        ("[{audience: https://a.example/, audiance: x}]", [("unknown-field", "5:43")]),
        ("[{audience: https://a.example/, subject_type: app}]", [("enum", "5:57")]),
        ("[{audience: https://a.example/, organization_usage: sometimes}]", [("enum", "5:63")]),
        ("[{audience: https://a.example/, allow_any_organization: 'yes'}]", [("type", "5:67")]),
        ("[{audience: https://a.example/, scopes: read:x}]", [("type", "5:51")]),
        ("[{audience: https://a.example/, scopes: ['']}]", [("minlength", "5:52")]),
        ("{audience: https://a.example/}", [("type", "5:11")]),
    ],
)
def test_each_apis_error_points_at_its_value(apis: str, expected: list[tuple[str, str]]) -> None:
    assert findings(M2M + f"    apis: {apis}\n") == expected


@pytest.mark.parametrize(
    ("connections", "expected"),
    [
        ("[google-oauth2, my-db-2]", []),
        ("[google_oauth2]", [("pattern", "5:19")]),
        ("[-db]", [("pattern", "5:19")]),
        ("[db--x]", [("pattern", "5:19")]),
        (f"[{'a' * 129}]", [("maxlength", "5:19")]),
        ("google-oauth2", [("type", "5:18")]),
    ],
)
def test_a_connection_is_named_as_auth0_names_connections(
    connections: str, expected: list[tuple[str, str]]
) -> None:
    assert findings(M2M + f"    connections: {connections}\n") == expected


def test_the_tenant_grants_for_third_party_apps_stand_beside_the_apps() -> None:
    grants = "third_party_apis:\n  - audience: https://ledger.example.com/\n"
    assert findings(M2M + grants + "    scopes: [read:entries]\n    subject_type: user\n") == []
    assert findings(M2M + grants + "    scope: [read:entries]\n") == [("unknown-field", "7:5")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            "    client_uri: https://w.example/\n    policy_uri: https://w.example/p\n"
            "    tos_uri: https://w.example/t\n    contacts: [ops@w.example]\n",
            [],
        ),
        ("    contacts: ops@w.example\n", [("type", "5:15")]),
        ("    contacts: [ops@w.example, ops@w.example]\n", [("duplicate-item", "5:15")]),
        ("    policy_uri: ''\n", [("minlength", "5:17")]),
        ("    scope: read:entries\n", [("unknown-field", "5:5")]),
    ],
)
def test_the_rfc_7591_fields_and_no_scope_of_its_own(
    fields: str, expected: list[tuple[str, str]]
) -> None:
    """An app's scope comes from its apis: the manifest has no ``scope`` field."""
    assert findings(M2M + fields) == expected


def test_a_cimd_app_takes_its_pages_and_contacts_from_its_document() -> None:
    cimd = "apps:\n  p:\n    cimd: https://p.example/c.json\n"
    assert [rule for rule, _ in findings(cimd + "    policy_uri: https://p.example/p\n")] == [
        "cimd-field"
    ]
