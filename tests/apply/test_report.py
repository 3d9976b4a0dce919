"""What an apply says it did: counts, failures, and where every secret went."""

from __future__ import annotations

import pytest

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.apply.report import progress_line, render_report
from reconciler.core.changes import (
    CHANGE_TYPES,
    Adopt,
    Change,
    Create,
    Delete,
    Deliver,
    Refresh,
    Rotate,
    TenantGrants,
    Update,
)
from reconciler.errors import ApiError, ConflictError, ReconcilerError, RegistryError

FINGERPRINT = "sha256:" + "9a" * 32


def created(key: str) -> ChangeResult:
    return ChangeResult(Create(key=key, after={"name": key}), True, f"id-{key}")


def delivered(key: str, detail: str | None = None) -> ChangeResult:
    change = Deliver(key=key, client_id=f"id-{key}", fingerprint=FINGERPRINT)
    return ChangeResult(change, True, f"id-{key}", detail=detail)


def one_of_each() -> list[Change]:
    """A change of every kind, on the app ``<action>-app``."""
    registered = {"client_id": "id", "fingerprint": FINGERPRINT}
    declared = {"before": {"name": "Old"}, "after": {"name": "New"}, **registered}
    url = "https://app.example/client.json"
    source = {"url": url, "document": {}}
    return [
        Adopt(key="adopt-app", **declared),
        Create(key="create-app", after={"name": "New"}),
        Update(key="update-app", **declared),
        Refresh(key="refresh-app", cimd=url, source=source, **declared),
        Deliver(key="deliver-app", **registered),
        Rotate(key="rotate-app", **registered),
        TenantGrants(
            key="tenant-grants-app",
            group="third_party_clients",
            before={"grants": {}},
            after={"grants": {"https://api/": {"scopes": []}}},
        ),
        Delete(key="delete-app", before={"name": "Old"}, **registered),
    ]


def test_the_summary_says_how_each_secret_was_delivered_and_names_the_missing_ones() -> None:
    report = ApplyReport(
        results=[created("a"), created("b"), delivered("c")],
        secrets_saved={"a": "created", "c": "read back"},
        secrets_unsaved=["b"],
    )
    text = render_report(report)
    assert "Apply complete: 2 created, 1 secret delivered." in text
    assert "2 client secrets in the --secrets-out file (created: a; read back: c)" in text
    assert "Secrets NOT delivered for: b." in text


def test_a_delivery_reads_as_one_secret_per_line() -> None:
    assert progress_line(1, 2, delivered("c")) == "[1/2] » c (id-c): secret delivered"
    two = ApplyReport(results=[delivered("c"), delivered("d")])
    assert render_report(two).startswith("Apply complete: 2 secrets delivered.")


def test_a_delivery_line_says_how_and_deliveries_without_a_sink_are_named() -> None:
    result = delivered("c", detail="rotated")
    assert progress_line(1, 1, result) == "[1/1] » c (id-c): secret delivered (rotated)"
    one = ApplyReport(secrets_saved={"c": "read back"})
    assert "1 client secret in the --secrets-out file (read back: c)." in render_report(one)


@pytest.mark.parametrize(
    ("action", "line"),
    [
        ("adopt", "[1/7] @ adopt-app (id): adopted"),
        ("create", "[1/7] + create-app (id): created"),
        ("update", "[1/7] ~ update-app (id): updated"),
        ("refresh", "[1/7] ← refresh-app (id): refreshed"),
        ("deliver", "[1/7] » deliver-app (id): secret delivered"),
        ("rotate", "[1/7] ↻ rotate-app (id): secret rotated"),
        ("tenant-grants", "[1/7] ~ tenant-grants-app (id): tenant grants updated"),
        ("delete", "[1/7] - delete-app (id): deleted"),
    ],
)
def test_each_kind_says_what_it_did_as_it_finishes(action: str, line: str) -> None:
    [change] = [c for c in one_of_each() if c.ACTION == action]
    assert progress_line(1, 7, ChangeResult(change, True, "id")) == line


def test_the_closing_count_uses_each_kinds_words_in_the_order_they_ran() -> None:
    results = [ChangeResult(change, True, "id") for change in one_of_each() * 2]
    assert render_report(ApplyReport(results=results)) == (
        "Apply complete: 2 adopted, 2 created, 2 updated, 2 refreshed, 2 secrets delivered, "
        "2 secrets rotated, 2 tenant grants updated, 2 deleted."
    )
    assert {type(change) for change in one_of_each()} == set(CHANGE_TYPES.values())


def test_a_failed_apply_counts_only_what_was_done_and_names_the_rest() -> None:
    create_app, failing = one_of_each()[1], one_of_each()[2]
    report = ApplyReport(
        results=[
            ChangeResult(create_app, True, "id-create"),
            ChangeResult(failing, False, "id", error="503 Service Unavailable"),
        ],
        skipped=[one_of_each()[-1]],
    )
    assert render_report(report).splitlines() == [
        "Apply failed: 1 created; 1 failed, 1 not attempted.",
        "  ~ update-app: 503 Service Unavailable",
        "  not attempted: - delete-app",
        "Run apply again: it converges from wherever this run stopped.",
    ]


def test_a_failure_the_registry_would_repeat_says_running_again_does_not_help() -> None:
    create_app, failing = one_of_each()[1], one_of_each()[2]
    report = ApplyReport(
        results=[
            ChangeResult(create_app, False, error="403 Forbidden: too many", persists=True),
            ChangeResult(failing, False, "id", error="503 Service Unavailable"),
        ]
    )
    assert render_report(report).splitlines()[-1] == (
        "Running apply again fails the same way for + create-app until what refused it "
        "changes (the manifest, the tenant, or the token's scopes: see each error); the "
        "rest converges from wherever this run stopped."
    )


@pytest.mark.parametrize(
    ("error", "persists"),
    [
        (ApiError(403, "Forbidden", "too many entities", "too_many_entities"), True),
        (ApiError(400, "Bad Request", "invalid body"), True),
        (ApiError(429, "Too Many Requests", "slow down"), False),
        (ApiError(409, "Conflict", "exists"), False),
        (ApiError(503, "Service Unavailable", "later"), False),
        (ConflictError("two keys at most"), True),
        (RegistryError("timed out"), False),
    ],
)
def test_which_errors_a_rerun_would_meet_again(error: ReconcilerError, persists: bool) -> None:
    assert error.persists is persists
