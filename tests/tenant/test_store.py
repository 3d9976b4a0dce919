"""The tenant's tables, as SQLite plans their queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reconciler.tenant.engine import Tenant
from reconciler.tenant.store import CLIENT_PAGE


def test_a_page_of_clients_is_read_in_creation_order_without_sorting_every_client(
    tmp_path: Path,
) -> None:
    """GET /clients?is_global=false&page=N walks an index in order: a full read of N
    clients costs O(N) rows, not a sort of every client for every page."""
    path = tmp_path / "tenant.db"
    Tenant(path).close()
    with sqlite3.connect(path) as connection:
        plan = connection.execute(
            "EXPLAIN QUERY PLAN " + CLIENT_PAGE.format(where=" WHERE is_global = ?"),
            (0, 100, 5000),
        ).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "clients_in_order" in details and "TEMP B-TREE" not in details, details
