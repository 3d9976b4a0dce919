"""Value objects of the core: the CIMD document a plan registers from."""

from __future__ import annotations

import json

from reconciler.core.model import Source, SourceOrigin


def test_a_source_says_where_its_document_came_from_as_plan_files_do() -> None:
    assert sorted(origin.value for origin in SourceOrigin) == ["fetched", "locked"]
    source = Source(
        "https://p.example/c.json", {"client_name": "P"}, "sha256:x", "2026", SourceOrigin.LOCKED
    )
    data = json.loads(json.dumps(source.to_data()))
    assert data["origin"] == "locked" and type(source.to_data()["origin"]) is str
    loaded = Source.from_data(data)
    assert loaded == source and loaded.origin is SourceOrigin.LOCKED
