"""Secrets on their way from the registry to the sink, written in durable batches.

A secret arrives with the answer that creates (or reads back, or rotates) it, while the
app's stamp says ``pending``. The courier queues it and writes the queue to the sink in
one durable write when it holds ``batch`` secrets, when its first one has waited
``seconds``, or when asked (at the end of each kind of change, and for any secret that
is not a create's). Only after that write is each app's ``pending`` flag cleared: a run
killed with secrets in the queue leaves their apps pending, named by the next plan and
delivered by the next apply. 10,000 creates thus cost some 160 rewrites of the sink, not
10,000.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.apply.secrets import Delivery, SecretsFile
from reconciler.core.changes import Change
from reconciler.core.model import App
from reconciler.core.stamp import Stamp
from reconciler.errors import ReconcilerError

__all__ = ["Courier", "DeliveryError", "Handover"]


@dataclass(frozen=True)
class Handover:
    """A secret received for the app ``change`` is about, waiting for the sink."""

    change: Change
    delivery: Delivery
    app: App
    stamp: Stamp


class DeliveryError(ReconcilerError):
    """Changes whose secret could not be delivered (their apps stay ``pending``), or whose
    flag could not be cleared; ``delivered`` are the handovers in the sink all the same."""

    def __init__(
        self, message: str, changes: Sequence[Change], delivered: Sequence[Handover] = ()
    ) -> None:
        super().__init__(message)
        self.changes = list(changes)
        self.delivered = list(delivered)


class Courier:
    """Queues secrets (from many threads) and writes them to ``sink`` in batches;
    ``mark_delivered(app, stamp)`` writes the stamp once its secret is on disk."""

    def __init__(
        self,
        sink: SecretsFile,
        mark_delivered: Callable[[App, Stamp], None],
        *,
        batch: int = 64,
        seconds: float = 0.25,
    ) -> None:
        self._sink = sink
        self._mark_delivered = mark_delivered
        self._batch = batch
        self._seconds = seconds
        self._queue: list[Handover] = []
        self._since = 0.0
        self._lock = threading.Lock()

    def hand_over(self, handover: Handover, *, now: bool = False) -> list[Handover]:
        """Queue it; write the queue if it is due (or ``now``). Returns what was written."""
        with self._lock:
            if not self._queue:
                self._since = time.monotonic()
            self._queue.append(handover)
            due = len(self._queue) >= self._batch or (
                time.monotonic() - self._since >= self._seconds
            )
        return self.flush() if due or now else []

    def flush(self) -> list[Handover]:
        """Write the queued secrets durably, then clear their apps' flags.

        Returns the handovers now in the sink; raises DeliveryError naming the changes
        whose secret is not (or whose flag could not be cleared)."""
        with self._lock:
            queue, self._queue = self._queue, []
        if not queue:
            return []
        try:
            self._sink.add_many([handover.delivery for handover in queue])
        except OSError as exc:
            raise DeliveryError(
                f"secrets could not be written to {self._sink.path} "
                f"({exc.strerror or exc}); the apps stay marked as pending and the next "
                "apply with --secrets-out delivers them",
                [handover.change for handover in queue],
            ) from exc
        failures: list[tuple[Change, ReconcilerError]] = []
        for handover in queue:
            try:
                self._mark_delivered(handover.app, handover.stamp.delivered())
            except ReconcilerError as exc:
                # In the sink all the same: the next run finds it there and clears the flag.
                failures.append((handover.change, exc))
        if failures:
            raise DeliveryError(
                f"the secret is in the sink, but recording that failed: {failures[0][1]}",
                [change for change, _ in failures],
                queue,
            )
        return queue
