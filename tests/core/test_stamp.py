from __future__ import annotations

import base64
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.fields import MANAGED_FIELDS, STAMPED_FIELDS
from reconciler.core.stamp import METADATA_LIMIT, STAMP_KEYS, Stamp, file_hash

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.text(min_size=1, max_size=100),
    st.text(min_size=1, max_size=63),
    st.dictionaries(st.sampled_from(MANAGED_FIELDS), values),
    st.booleans(),
    st.booleans(),
    st.text(max_size=200),
)
def test_a_stamp_reads_back_as_written_and_fits_auth0s_limits(
    owner: str, key: str, fields: dict[str, Any], protect: bool, pending: bool, path: str
) -> None:
    source = file_hash(path) if path else ""
    stamp = Stamp.for_fields(owner, key, fields, protect=protect, pending=pending, source=source)
    metadata = stamp.to_metadata()
    assert Stamp.read(metadata) == stamp
    assert set(metadata) == set(STAMP_KEYS) and len(STAMP_KEYS) < METADATA_LIMIT
    assert all(len(value) <= 255 for value in metadata.values())


def test_every_owned_field_fits_in_one_metadata_value() -> None:
    stamp = Stamp.for_fields(
        "o",
        "k",
        {name: name for name in STAMPED_FIELDS},
        protect=True,
        pending=True,
        source=file_hash("apps/a-very/long/path/to/some/manifest.yaml"),
    )
    assert len(stamp.to_metadata()["reconciler_applied"]) <= 255
    again = Stamp.read(stamp.to_metadata())
    assert again is not None and set(again.applied) == set(STAMPED_FIELDS)
    assert again.pending and again.protect and again.source == stamp.source


def test_fields_added_later_take_new_letters_and_shipped_stamps_read_the_same() -> None:
    shipped = "v1:a111111c222222t333333"
    stamp = Stamp.read(
        {"reconciler_owner": "o", "reconciler_key": "k", "reconciler_applied": shipped}
    )
    assert stamp is not None
    assert stamp.applied == {"name": "111111", "app_type": "222222", "credentials": "333333"}
    later = Stamp.for_fields("o", "k", {"policy_uri": 1, "scope": "read"})
    assert later.to_metadata()["reconciler_applied"] == (
        "v1:v" + later.applied["policy_uri"] + "0" + later.applied["scope"]
    )
    access = Stamp.for_fields("o", "k", {"grants": {}, "connections": []})
    assert access.to_metadata()["reconciler_applied"] == (
        "v1:y" + access.applied["grants"] + "z" + access.applied["connections"]
    )
    assert STAMPED_FIELDS[: len(MANAGED_FIELDS[:24])] == MANAGED_FIELDS[:24]


def test_stamps_written_before_flags_existed_still_read() -> None:
    old = {
        "reconciler_owner": "o",
        "reconciler_key": "k",
        "reconciler_applied": "v1:a123456;protect",
    }
    stamp = Stamp.read(old)
    assert stamp is not None and stamp.protect and not stamp.pending and stamp.source == ""
    assert stamp.applied == {MANAGED_FIELDS[0]: "123456"}


def test_delivered_clears_only_the_pending_flag() -> None:
    stamp = Stamp("o", "k", {"name": "abcdef"}, protect=True, pending=True, source="0a1b2c")
    assert stamp.delivered() == Stamp("o", "k", {"name": "abcdef"}, True, False, "0a1b2c")


def test_fields_past_the_36th_take_capital_letters_and_the_first_36_keep_theirs() -> None:
    assert STAMPED_FIELDS[25:28] == ("connections", "scope", "oidc_logout")
    stamp = Stamp.for_fields("o", "k", {"allowed_clients": [], "oidc_logout": {}})
    assert stamp.to_metadata()["reconciler_applied"] == (
        "v1:1" + stamp.applied["oidc_logout"] + "B" + stamp.applied["allowed_clients"]
    )
    assert Stamp.read(stamp.to_metadata()) == stamp


def test_a_stamp_too_long_for_v1_is_written_compact_and_reads_the_same() -> None:
    fields = {name: name for name in STAMPED_FIELDS}
    stamp = Stamp.for_fields("o", "k", fields, protect=True, source=file_hash("a.yaml"))
    text = stamp.to_metadata()["reconciler_applied"]
    assert text.startswith("v2:") and len(text) <= 255
    body, *flags = text.removeprefix("v2:").split(";")
    assert len(body) == 5 * len(STAMPED_FIELDS), "a letter and four characters a field"
    assert flags == [
        "protect",
        "f=" + base64.urlsafe_b64encode(bytes.fromhex(stamp.source)).decode(),
    ]
    assert Stamp.read(stamp.to_metadata()) == stamp
    few = Stamp.for_fields("o", "k", {"name": "x", "grants": {}})
    assert few.to_metadata()["reconciler_applied"].startswith("v1:")
