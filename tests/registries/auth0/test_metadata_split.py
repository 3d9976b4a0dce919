"""A ``client_metadata`` change that removes and adds more than ten members between them
is sent as two PATCHes (the removals, then the rest with the stamp): when the second one
fails for good, after the first went through, the app keeps its old stamp, so the next
plan still sees the manifest's change, and the next apply finishes it. Through
``auth0://`` against ``reconciler serve``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryError
from reconciler.registries.retry import RetryPolicy
from tests.auth0_sdk import TlsServe

OLD = {f"old{n}": "v" for n in range(7)}
NEW = {f"new{n}": "v" for n in range(7)}


def test_a_split_metadata_change_cut_off_between_its_patches_is_finished_next_time(
    tmp_path: Path,
) -> None:
    with TlsServe(tmp_path / "tenant.db") as served:
        registry = served.registry(retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
        try:
            before = Stamp.for_fields("owner", "meta", {"client_metadata": OLD})
            made = registry.create({"name": "Meta", "client_metadata": OLD}, (), before)
            client_id = made.app.client_id
            served.inject(
                status=503,
                method="PATCH",
                path_prefix=f"/api/v2/clients/{client_id}",
                skip=1,
                count=10,
            )
            after = Stamp.for_fields("owner", "meta", {"client_metadata": NEW})
            with pytest.raises(RegistryError):
                registry.update(made.app, {"client_metadata": NEW}, after)
            with served.http() as http:
                http.delete(f"{served.base_url}/__control/inject").raise_for_status()
            [cut_off] = [a for a in registry.list_apps() if a.client_id == client_id]
            # The removals went through; the stamp is still the one before the change.
            assert cut_off.fields["client_metadata"] == {}
            assert cut_off.stamp is not None and cut_off.stamp.applied == before.applied
            finished = registry.update(cut_off, {"client_metadata": NEW}, after)
            assert finished.fields["client_metadata"] == NEW
            assert finished.stamp is not None and finished.stamp.applied == after.applied
        finally:
            registry.close()
