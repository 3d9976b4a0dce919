"""The courier: secrets reach the sink in durable batches, flags are cleared only after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.apply.handover import Courier, DeliveryError, Handover
from reconciler.apply.secrets import Delivery, SecretsFile
from reconciler.core.changes import Create, Deliver
from reconciler.core.model import App
from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryError


def handover(n: int, change: type[Create] | type[Deliver] = Create) -> Handover:
    key = f"app-{n}"
    app = App(client_id=f"id-{n}", fields={})
    stamp = Stamp("team", key, {}, pending=True)
    made = (
        Create(key=key, after={})
        if change is Create
        else Deliver(key=key, client_id=app.client_id, fingerprint=app.fingerprint())
    )
    return Handover(made, Delivery(key, app.client_id, f"s-{n}", "r"), app, stamp)


class Recorder:
    def __init__(self, sink: Path) -> None:
        self.sink = sink
        self.marked: list[tuple[str, bool]] = []

    def __call__(self, app: App, stamp: Stamp) -> None:
        on_disk = json.loads(self.sink.read_text())
        assert on_disk[stamp.key]["client_id"] == app.client_id, "marked before it was written"
        self.marked.append((stamp.key, stamp.pending))


def test_secrets_wait_for_a_full_batch_then_go_in_one_write(tmp_path: Path) -> None:
    sink = SecretsFile(tmp_path / "s.json")
    marked = Recorder(tmp_path / "s.json")
    courier = Courier(sink, marked, batch=3, seconds=3600)
    assert courier.hand_over(handover(1)) == [] and courier.hand_over(handover(2)) == []
    assert not (tmp_path / "s.json").exists()
    written = courier.hand_over(handover(3))
    assert [h.change.key for h in written] == ["app-1", "app-2", "app-3"]
    assert marked.marked == [("app-1", False), ("app-2", False), ("app-3", False)]
    assert courier.flush() == []


def test_a_secret_asked_for_now_and_the_last_ones_are_written_at_once(tmp_path: Path) -> None:
    sink = SecretsFile(tmp_path / "s.json")
    courier = Courier(sink, Recorder(tmp_path / "s.json"), batch=100, seconds=3600)
    courier.hand_over(handover(1))
    assert [h.change.key for h in courier.hand_over(handover(2, Deliver), now=True)] == [
        "app-1",
        "app-2",
    ]
    courier.hand_over(handover(3))
    assert [h.change.key for h in courier.flush()] == ["app-3"]


def test_a_sink_that_fails_names_every_change_of_the_batch(tmp_path: Path) -> None:
    class Full(SecretsFile):
        def add_many(self, deliveries: Sequence[Delivery]) -> None:
            raise OSError(28, "No space left on device")

    marked: list[str] = []
    courier = Courier(Full(tmp_path / "s.json"), lambda a, s: marked.append(s.key), batch=2)
    courier.hand_over(handover(1))
    with pytest.raises(DeliveryError, match="No space left") as failed:
        courier.hand_over(handover(2))
    assert [c.key for c in failed.value.changes] == ["app-1", "app-2"]
    assert failed.value.delivered == [] and marked == [], "nothing marked delivered"


def test_a_flag_that_cannot_be_cleared_is_reported_with_the_secret_in_the_sink(
    tmp_path: Path,
) -> None:
    def refuse(app: App, stamp: Stamp) -> None:
        if stamp.key == "app-2":
            raise RegistryError("503 Service Unavailable")

    courier = Courier(SecretsFile(tmp_path / "s.json"), refuse, batch=2)
    courier.hand_over(handover(1))
    with pytest.raises(DeliveryError, match="in the sink") as failed:
        courier.hand_over(handover(2))
    assert [c.key for c in failed.value.changes] == ["app-2"]
    assert [h.change.key for h in failed.value.delivered] == ["app-1", "app-2"]
    assert set(json.loads((tmp_path / "s.json").read_text())) == {"app-1", "app-2"}
