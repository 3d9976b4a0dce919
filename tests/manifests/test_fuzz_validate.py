"""Arbitrary bytes and arbitrary YAML: a located verdict every time, never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import cli
from reconciler.manifests.schema import MANIFEST_SCHEMA, load_schema

LOCATED = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (error|warning)\[[a-z0-9-]+\]: .+"
)
FIELDS = [*load_schema(MANIFEST_SCHEMA)["$defs"]["app"]["properties"], "client_secret"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "spa",
            "native",
            "m2m",
            "regular_web",
            "none",
            "implicit",
            "https://a.example/cb",
            "http://localhost/cb",
            "app://x",
            "${X}",
            "https://p.example/c.json",
            "-----BEGIN PRIVATE KEY-----",
        ]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
apps = st.dictionaries(
    st.sampled_from(["web", "a", "Bad Key", "x" * 70, "m2m-1"]),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8) | values,
    max_size=3,
)
documents = st.one_of(
    values,
    st.fixed_dictionaries({"apps": apps}),
    st.fixed_dictionaries({"apps": apps}, optional={"extra": values}),
)


def check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "apps.yaml"
        path.write_bytes(raw)
        result = CliRunner().invoke(cli, ["validate", str(path), "--var", "X=1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    lines = result.output.splitlines()
    assert lines, "no verdict printed"
    findings = lines[:-1]
    assert lines[-1].startswith(("valid:", "invalid:")) or all(LOCATED.match(x) for x in lines)
    text = raw.decode("utf-8", errors="replace")
    line_count = len(text.splitlines()) + 1  # YAML also breaks lines at NEL, LS and PS
    for finding in findings:
        match = LOCATED.match(finding)
        assert match, finding
        assert 1 <= int(match["line"]) <= line_count + 1
    if result.exit_code == 1:
        assert any(": error[" in x for x in lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_arbitrary_yaml(document: Any) -> None:
    check(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("apps: -[]{}&*!|>'\"\t\n#x1.,?%@`")), max_size=200))
def test_yaml_punctuation_soup(text: str) -> None:
    check(text.encode("utf-8"))
