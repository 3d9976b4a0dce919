from __future__ import annotations

import pytest
import yaml

from reconciler.diagnostics import Location
from reconciler.manifests.yamlfile import YamlError, _Loader, load_yaml_bytes


def test_locations_of_values_and_keys() -> None:
    file = load_yaml_bytes(
        b"apps:\n  web:\n    callbacks:\n      - https://a\n      - https://b\n", "f.yaml"
    )
    assert file.locate(("apps", "web", "callbacks", 1)) == Location("f.yaml", 5, 9)
    assert file.locate_key(("apps", "web")) == Location("f.yaml", 2, 3)
    assert file.locate(("apps", "web", "missing", 3)) == Location("f.yaml", 3, 5)


def test_locations_past_small_numbers_and_of_merged_keys() -> None:
    padding = b"# comment\n" * 300
    wide = b" " * 70_000
    file = load_yaml_bytes(
        padding + b"base: &base {shared: 1}\napps: {<<: *base, web: [" + wide + b"x]}\n", "f.yaml"
    )
    assert file.locate(("apps", "web", 0)) == Location("f.yaml", 302, 70_025)
    assert file.locate_key(("apps", "web")) == Location("f.yaml", 302, 19)
    assert file.locate_key(("apps", "shared")) == Location("f.yaml", 301, 14)
    assert file.locate_key(("apps", "missing")) == Location("f.yaml", 302, 7)


def test_scalars_keep_yaml_types_but_timestamps_stay_text() -> None:
    file = load_yaml_bytes(b"a: 2024-01-01\nb: true\nc: 12\nd: '12'\ne: ~\n", "f.yaml")
    assert file.data == {"a": "2024-01-01", "b": True, "c": 12, "d": "12", "e": None}


def test_merge_keys_and_explicit_keys_win() -> None:
    file = load_yaml_bytes(
        b"base: &b {type: spa, name: Base}\napp:\n  <<: *b\n  name: Mine\n", "f.yaml"
    )
    assert file.data["app"] == {"name": "Mine", "type": "spa"}


def test_small_aliases_are_fine() -> None:
    file = load_yaml_bytes(b"a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert file.data == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"a: " + b"[" * 300 + b"]" * 300, "yaml-too-deep"),
        (b"a: !!python/object:os.system x\n", "yaml-tag"),
        (b"a: 1\n---\nb: 2\n", "yaml-syntax"),
        (b"? [1]\n: x\n", "yaml-complex-key"),
        (b"\x00", "file-encoding"),
        (b"a: \x01\n", "yaml-syntax"),
    ],
)
def test_hostile_input_is_refused(raw: bytes, rule: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml_bytes(raw, "f.yaml")
    assert caught.value.diagnostic.rule == rule


def test_byte_order_mark_is_accepted() -> None:
    assert load_yaml_bytes("\ufeffapps: {}\n".encode(), "f.yaml").data == {"apps": {}}


PLAIN_SCALARS = [
    "yes", "No", "on", "OFF", "y", "~", "null", "Null", "1e3", "1.5", ".inf", "-.Inf",
    ".nan", "0x1F", "0o17", "017", "1_000", "-12", "+3", "190:20:30", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "<<", "=", "none", "true", "spa", "team-3", "3.0.1",
]  # fmt: skip


def tags(node: yaml.Node) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [node.tag]
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = [part for pair in node.value for part in pair]
    return [node.tag, *(tag for child in children for tag in tags(child))]


def test_plain_scalars_resolve_as_the_safe_loader_resolves_them() -> None:
    """Each text twice in a file (the second answered from the tags already resolved),
    plain and quoted, and as a key."""
    lines = [f"k{i}: [{text}, {text}, '{text}', {{{text}: 1}}]" for i, text in
             enumerate(PLAIN_SCALARS)]  # fmt: skip
    text = "\n".join(lines) + "\nempty:\n"
    ours, safe = yaml.compose(text, Loader=_Loader), yaml.compose(text, Loader=yaml.SafeLoader)
    assert ours is not None and safe is not None
    assert tags(ours) == tags(safe)
