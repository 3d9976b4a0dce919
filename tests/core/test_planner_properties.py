"""Invariants over random desired and actual states, on the real embedded tenant."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.changes import Adopt, Create, Delete
from reconciler.core.model import App
from reconciler.core.planner import plan
from tests.helpers import desired, memory_registry, seed

OWNER = "team-a"
KEYS = ["alpha", "beta", "gamma", "delta", "eps"]
URIS = ["https://a.example.com/cb", "https://b.example.com/cb", "https://c.example.com/cb"]
TYPES = {"spa": "spa", "regular_web": "regular_web", "native": "native", "m2m": "non_interactive"}


@st.composite
def manifest_body(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(TYPES)))
    body: dict[str, Any] = {"name": draw(st.sampled_from(["One", "Two"])), "type": kind}
    if kind != "m2m" and draw(st.booleans()):
        body["callbacks"] = draw(st.lists(st.sampled_from(URIS), unique=True, max_size=3))
    if draw(st.booleans()):
        body["description"] = draw(st.sampled_from(["", "first", "second"]))
    if draw(st.booleans()):
        body["metadata"] = draw(
            st.dictionaries(
                st.sampled_from(["team", "tier"]), st.sampled_from(["x", "y"]), max_size=2
            )
        )
    if kind in ("spa", "native") and draw(st.booleans()):
        body["refresh_token"] = {
            "rotation_type": draw(st.sampled_from(["rotating", "non-rotating"])),
            "expiration_type": "expiring",
        }
    if draw(st.booleans()):
        body["protect"] = draw(st.booleans())
    return body


@st.composite
def seeded_app(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "owner": draw(st.sampled_from([OWNER, "team-b", None])),
        "key": draw(st.sampled_from(KEYS)),
        "name": draw(st.sampled_from(["One", "Two", "Three"])),
        "app_type": draw(st.sampled_from(sorted(TYPES.values()))),
        "protect": draw(st.booleans()),
        "callbacks": draw(st.lists(st.sampled_from(URIS), unique=True, max_size=2)),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_apply_then_plan_is_empty_and_only_owned_apps_are_touched(data: st.DataObject) -> None:
    """Every plan touches only owned apps and adopts only named unstamped ones; a plan
    without conflicts, applied, leaves nothing to do and other owners' apps as they were."""
    tenant, registry = memory_registry()
    seeds = data.draw(st.lists(seeded_app(), max_size=6))
    ids = []
    for s in seeds:
        stamped = s["owner"] is not None
        ids.append(
            seed(
                tenant,
                name=s["name"],
                app_type=s["app_type"],
                owner=s["owner"] if stamped else None,
                key=s["key"] if stamped else None,
                protect=s["protect"],
                callbacks=s["callbacks"],
            )
        )
    manifests = data.draw(st.dictionaries(st.sampled_from(KEYS), manifest_body(), max_size=5))
    adoptable = [cid for cid, s in zip(ids, seeds, strict=True) if s["owner"] is None]
    specs = []
    for key, body in manifests.items():
        if adoptable and data.draw(st.booleans()):
            body = {**body, "client_id": adoptable.pop()}
        specs.append(desired(key, **body))

    before: list[App] = registry.list_apps()
    by_id = {a.client_id: a for a in before}
    named = {s.client_id for s in specs if s.client_id}
    first = plan(specs, before, owner=OWNER, registry=registry.uri)
    for change in first.changes:
        if isinstance(change, Create):
            continue
        target = by_id[change.client_id or ""]
        if isinstance(change, Adopt):
            assert target.stamp is None and target.client_id in named
        else:
            assert target.owned_by(OWNER), change
        if isinstance(change, Delete):
            assert target.stamp is not None and not target.stamp.protect

    # A plan with conflicts is refused, never applied: Hypothesis draws another state (and
    # fails its filter_too_much health check if too few states are free of conflicts).
    assume(not first.conflicts)
    with tempfile.TemporaryDirectory() as sink_directory:
        sink = SecretsFile(Path(sink_directory) / "secrets.json")
        report = apply_plan(first, registry, before, secrets=sink)
    assert report.ok, [r.error for r in report.results if not r.ok]
    again = plan(specs, registry.list_apps(), owner=OWNER, registry=registry.uri)
    assert again.is_empty, [c.to_data() for c in again.changes]
    untouched = {a.client_id: a for a in registry.list_apps()}
    for app in before:
        if app.stamp is not None and app.stamp.owner != OWNER:
            assert untouched[app.client_id].fingerprint() == app.fingerprint()
