"""What an apply says it did: counts, failures, and where every secret went."""

from __future__ import annotations

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.apply.report import progress_line, render_report
from reconciler.core.changes import Create, Deliver


def test_the_summary_says_how_each_secret_was_delivered_and_names_the_missing_ones() -> None:
    report = ApplyReport(
        results=[
            ChangeResult(Create(key="a"), True, "id-a"),
            ChangeResult(Create(key="b"), True, "id-b"),
            ChangeResult(Deliver(key="c", client_id="id-c"), True, "id-c"),
        ],
        secrets_saved={"a": "created", "c": "read back"},
        secrets_unsaved=["b"],
    )
    text = render_report(report)
    assert "Apply complete: 2 created, 1 secret delivered." in text
    assert "2 client secrets in the --secrets-out file (created: a; read back: c)" in text
    assert "Secrets NOT delivered for: b." in text


def test_a_delivery_reads_as_one_secret_per_line() -> None:
    line = progress_line(1, 2, ChangeResult(Deliver(key="c", client_id="id-c"), True, "id-c"))
    assert line == "[1/2] » c (id-c): secret delivered"
    two = ApplyReport(
        results=[
            ChangeResult(Deliver(key="c", client_id="id-c"), True, "id-c"),
            ChangeResult(Deliver(key="d", client_id="id-d"), True, "id-d"),
        ]
    )
    assert render_report(two).startswith("Apply complete: 2 secrets delivered.")


def test_a_delivery_line_says_how_and_deliveries_without_a_sink_are_named() -> None:
    result = ChangeResult(Deliver(key="c", client_id="id-c"), True, "id-c", detail="rotated")
    assert progress_line(1, 1, result) == "[1/1] » c (id-c): secret delivered (rotated)"
    one = ApplyReport(secrets_saved={"c": "read back"})
    assert "1 client secret in the --secrets-out file (read back: c)." in render_report(one)
