"""Edits of a manifest's text: what is asked changes, every other line stays byte-identical."""

from __future__ import annotations

import difflib
import re
import stat
import textwrap
from pathlib import Path

import pytest

from reconciler.manifests.edit import EditError, ManifestText, Unkept, write_manifest
from reconciler.manifests.yamlfile import load_yaml_bytes

VARIABLES = {"DOMAIN": "dev.example.com"}


def expand(text: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda match: VARIABLES[match.group(1)], text)


def manifest(text: str) -> ManifestText:
    return ManifestText(textwrap.dedent(text), "apps/web.yaml", expand)


def changed(before: str, after: str) -> list[str]:
    """The lines removed (-) and added (+), in order."""
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line[0] + line[2:] for line in lines if line[:1] in "-+"]


BLOCK = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
apps:
  web:   # the portal
    name: "Customer portal"  # shown on the consent screen
    description: 'It''s the portal'
    type: regular_web
    callbacks:
      - https://${DOMAIN}/callback  # production
      - "https://staging.example.com/callback"
    # tokens
    refresh_token:
      rotation_type: rotating
      expiration_type: expiring
    apis:
      - audience: https://ledger.example.com/
        scopes: [read:entries, write:entries]
    metadata: {team: accounts, sunset: "2027-06-30"}

  worker:
    name: Worker
    type: m2m
"""


def test_a_plain_scalar_keeps_its_line_comment_and_everything_else() -> None:
    text = manifest(BLOCK)
    assert text.set(("apps", "web", "type"), "spa") == []
    after = text.result()
    assert changed(BLOCK, after) == ["-    type: regular_web", "+    type: spa"]


def test_a_quoted_scalar_keeps_its_quotes_and_its_comment() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "web", "name"), 'The "new" portal')
    text.set(("apps", "web", "description"), "Ours, now")
    assert changed(BLOCK, text.result()) == [
        '-    name: "Customer portal"  # shown on the consent screen',
        '+    name: "The \\"new\\" portal"  # shown on the consent screen',
        "-    description: 'It''s the portal'",
        "+    description: 'Ours, now'",
    ]


def test_a_plain_scalar_is_quoted_where_yaml_1_1_would_read_it_otherwise() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "worker", "name"), "yes")
    after = text.result()
    assert "    name: 'yes'\n" in after
    assert load_yaml_bytes(after.encode(), "x").data["apps"]["worker"]["name"] == "yes"


def test_a_block_list_gains_and_loses_items_as_lines() -> None:
    text = manifest(BLOCK)
    wanted = ["https://dev.example.com/callback", "https://new.example.com/callback"]
    assert text.set(("apps", "web", "callbacks"), wanted) == []
    assert changed(BLOCK, text.result()) == [
        '-      - "https://staging.example.com/callback"',
        '+      - "https://new.example.com/callback"',
    ]


def test_an_item_added_to_a_block_list_goes_after_the_last_in_its_style() -> None:
    text = manifest(BLOCK)
    wanted = [
        "https://dev.example.com/callback",
        "https://staging.example.com/callback",
        "https://more.example.com/callback",
    ]
    text.set(("apps", "web", "callbacks"), wanted)
    assert changed(BLOCK, text.result()) == ['+      - "https://more.example.com/callback"']


def test_a_nested_mapping_changes_only_the_member_that_differs() -> None:
    text = manifest(BLOCK)
    text.set(
        ("apps", "web", "refresh_token"),
        {"rotation_type": "non-rotating", "expiration_type": "expiring"},
    )
    assert changed(BLOCK, text.result()) == [
        "-      rotation_type: rotating",
        "+      rotation_type: non-rotating",
    ]


def test_a_nested_mapping_member_is_removed_and_another_added() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "web", "refresh_token"), {"rotation_type": "rotating", "leeway": 5})
    assert changed(BLOCK, text.result()) == [
        "-      expiration_type: expiring",
        "+      leeway: 5",
    ]


def test_a_flow_list_inside_a_list_of_mappings() -> None:
    text = manifest(BLOCK)
    apis = [{"audience": "https://ledger.example.com/", "scopes": ["read:entries"]}]
    text.set(("apps", "web", "apis"), apis)
    assert changed(BLOCK, text.result()) == [
        "-        scopes: [read:entries, write:entries]",
        "+        scopes: [read:entries]",
    ]


def test_a_list_item_mapping_is_added_in_the_file_indentation() -> None:
    text = manifest(BLOCK)
    apis = [
        {"audience": "https://ledger.example.com/", "scopes": ["read:entries", "write:entries"]},
        {"audience": "https://reports.example.com/", "scopes": ["read:reports"]},
    ]
    text.set(("apps", "web", "apis"), apis)
    assert changed(BLOCK, text.result()) == [
        "+      - audience: https://reports.example.com/",
        "+        scopes: [read:reports]",
    ]


def test_a_flow_mapping_keeps_its_members_as_written() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "web", "metadata"), {"team": "billing", "sunset": "2027-06-30"})
    assert changed(BLOCK, text.result()) == [
        '-    metadata: {team: accounts, sunset: "2027-06-30"}',
        '+    metadata: {team: billing, sunset: "2027-06-30"}',
    ]


def test_a_new_member_goes_after_the_last_member_of_the_app() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "worker", "grant_types"), ["client_credentials"])
    text.set(("apps", "worker", "jwt_configuration", "alg"), "RS256")
    assert changed(BLOCK, text.result()) == [
        "+    grant_types: [client_credentials]",
        "+    jwt_configuration: {alg: RS256}",
    ]


def test_a_member_is_removed_with_its_lines() -> None:
    text = manifest(BLOCK)
    assert text.remove(("apps", "web", "refresh_token")) == []
    assert changed(BLOCK, text.result()) == [
        "-    refresh_token:",
        "-      rotation_type: rotating",
        "-      expiration_type: expiring",
    ]


def test_a_value_that_changes_kind_replaces_its_member() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "web", "apis"), [])
    text.set(("apps", "web", "type"), {"kind": "web"})
    assert changed(BLOCK, text.result()) == [
        "-    type: regular_web",
        "+    type: {kind: web}",
        "-    apis:",
        "+    apis: []",
        "-      - audience: https://ledger.example.com/",
        "-        scopes: [read:entries, write:entries]",
    ]


def test_a_variable_is_kept_while_it_expands_to_what_is_asked() -> None:
    text = manifest(BLOCK)
    wanted = ["https://dev.example.com/callback", "https://staging.example.com/callback", "x:/y"]
    text.set(("apps", "web", "callbacks"), wanted)
    after = text.result()
    assert "      - https://${DOMAIN}/callback  # production\n" in after


def test_a_variable_is_never_replaced_by_a_literal() -> None:
    text = manifest(BLOCK)
    unkept = text.set(("apps", "web", "callbacks"), ["https://other.example.com/callback"])
    assert unkept == [
        Unkept(
            ("apps", "web", "callbacks", 0),
            "https://${DOMAIN}/callback",
            "https://dev.example.com/callback",
        )
    ]
    assert unkept[0].variables == ("DOMAIN",)
    assert text.result() == BLOCK  # nothing of that field was edited


def test_flow_lists_keep_their_items_as_written_and_add_in_their_style() -> None:
    before = textwrap.dedent(
        """\
        apps:
          spa:
            callbacks: ["https://pay.${DOMAIN}/callback"]
            grant_types: [authorization_code]
        """
    )
    text = ManifestText(before, "x.yaml", expand)
    text.set(("apps", "spa", "callbacks"), ["https://pay.dev.example.com/callback", "https://b/"])
    text.set(("apps", "spa", "grant_types"), ["authorization_code", "refresh_token"])
    assert changed(before, text.result()) == [
        '-    callbacks: ["https://pay.${DOMAIN}/callback"]',
        '+    callbacks: ["https://pay.${DOMAIN}/callback", "https://b/"]',
        "-    grant_types: [authorization_code]",
        "+    grant_types: [authorization_code, refresh_token]",
    ]


def test_an_app_is_appended_in_the_style_of_the_file() -> None:
    text = manifest(BLOCK)
    text.append_app("mobile", {"name": "Wallet", "type": "native", "callbacks": ["a://b"]})
    assert changed(BLOCK, text.result()) == [
        "+",
        "+  mobile:",
        "+    name: Wallet",
        "+    type: native",
        "+    callbacks: [a://b]",
    ]


def test_an_app_is_appended_to_an_empty_apps_and_to_a_file_without_one() -> None:
    for before in ("apps: {}\n", "# a comment\n"):
        text = ManifestText(before, "x.yaml")
        text.append_app("worker", {"type": "m2m", "grant_types": ["client_credentials"]})
        assert load_yaml_bytes(text.result().encode(), "x").data == {
            "apps": {"worker": {"type": "m2m", "grant_types": ["client_credentials"]}}
        }


def test_indentation_of_four_and_unindented_dashes_are_followed() -> None:
    before = textwrap.dedent(
        """\
        apps:
            web:
                callbacks:
                - https://a/cb
        """
    )
    text = ManifestText(before, "x.yaml")
    text.set(("apps", "web", "callbacks"), ["https://a/cb", "https://b/cb"])
    text.set(("apps", "web", "refresh_token"), {"rotation_type": "rotating"})
    assert changed(before, text.result()) == [
        "+        - https://b/cb",
        "+        refresh_token: {rotation_type: rotating}",
    ]


def test_an_app_already_declared_is_not_appended_again() -> None:
    with pytest.raises(EditError, match="already declared"):
        manifest(BLOCK).append_app("web", {"type": "spa"})


def test_nothing_asked_is_the_text_unchanged() -> None:
    text = manifest(BLOCK)
    text.set(("apps", "web", "type"), "regular_web")
    assert text.result() == BLOCK
    assert text.splices == []


def test_a_value_shared_through_an_anchor_is_not_edited() -> None:
    before = textwrap.dedent(
        """\
        apps:
          a:
            callbacks: &shared [https://a/cb]
          b:
            callbacks: *shared
        """
    )
    text = ManifestText(before, "x.yaml")
    with pytest.raises(EditError, match="anchor &shared"):
        text.set(("apps", "b", "callbacks"), ["https://a/cb", "https://b/cb"])
    with pytest.raises(EditError, match="anchor &shared"):
        text.set(("apps", "a", "callbacks"), [])


def test_a_multi_line_flow_list_gains_a_line_in_its_layout() -> None:
    before = 'apps:\n  a:\n    callbacks: [\n      "https://a/cb",\n    ]\n    name: A\n'
    text = ManifestText(before, "x.yaml")
    text.set(("apps", "a", "callbacks"), ["https://a/cb", "https://b/cb"])
    assert changed(before, text.result()) == ['+      "https://b/cb",']


def test_a_flow_list_with_a_comment_inside_is_not_rewritten() -> None:
    before = 'apps:\n  a:\n    callbacks: ["https://a/cb",  # ours\n      "https://c/cb"]\n'
    text = ManifestText(before, "x.yaml")
    with pytest.raises(EditError, match="x.yaml:3: a comment inside this flow collection"):
        text.set(("apps", "a", "callbacks"), ["https://a/cb"])


def test_an_app_appended_to_a_file_of_one_app_is_set_off_by_a_blank_line() -> None:
    before = "apps:\n  a:\n    type: spa\n"
    text = ManifestText(before, "x.yaml")
    text.append_app("b", {"type": "m2m"})
    assert text.result() == before + "\n  b:\n    type: m2m\n"


def test_an_edit_that_would_not_read_back_as_asked_fails() -> None:
    text = ManifestText("apps:\n  a:\n    type: spa\n", "x.yaml")
    text.set(("apps", "a", "type"), "m2m")
    text.expected["apps"]["a"]["type"] = "native"  # as if the splice had gone wrong
    with pytest.raises(EditError, match="does not read back as asked"):
        text.result()


def test_a_manifest_is_written_keeping_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text("apps: {}\n")
    path.chmod(0o640)
    write_manifest(path, "apps:\n  a:\n    type: spa\n")
    assert path.read_text() == "apps:\n  a:\n    type: spa\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "new.yaml"
    write_manifest(fresh, "apps: {}\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
