from __future__ import annotations

from reconciler.diagnostics import Location
from reconciler.manifests.variables import Variables, substitute
from reconciler.manifests.yamlfile import load_yaml_bytes


def variables(**values: str) -> Variables:
    return Variables({}, values, {}, "dev")


def test_substitution_and_escape() -> None:
    file = load_yaml_bytes(b'a: "https://${HOST}/x"\nb: $${NOT_A_VAR}\nc: plain\n', "f.yaml")
    data, problems = substitute(file, variables(HOST="example.com"))
    assert problems == []
    assert data == {"a": "https://example.com/x", "b": "${NOT_A_VAR}", "c": "plain"}
    assert file.data["a"] == "https://${HOST}/x"  # the parsed file is left as it was


def test_precedence_command_line_then_environment_then_process() -> None:
    chosen = Variables(
        {"A": "cli"}, {"A": "env", "B": "env"}, {"A": "proc", "B": "proc", "C": "proc"}
    )
    assert (chosen.get("A"), chosen.get("B"), chosen.get("C"), chosen.get("D")) == (
        "cli",
        "env",
        "proc",
        None,
    )


def test_undefined_variable_points_at_the_reference() -> None:
    file = load_yaml_bytes(b"a: x-${ONE}-${TWO}\n", "f.yaml")
    _, problems = substitute(file, variables(ONE="1"))
    assert [(p.rule, p.location) for p in problems] == [
        ("undefined-variable", Location("f.yaml", 1, 13))
    ]


def test_a_document_that_is_one_templated_string() -> None:
    file = load_yaml_bytes(b'"x-${MISSING}"\n', "f.yaml")
    data, problems = substitute(file, variables())
    assert data == "x-${MISSING}"
    assert [(p.rule, p.location) for p in problems] == [
        ("undefined-variable", Location("f.yaml", 1, 4))
    ]
