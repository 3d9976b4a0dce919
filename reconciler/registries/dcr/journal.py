"""The intent journal: a durable note before each registration, so no client hides.

RFC 7592 has no way to list clients. If a run dies after the server registered a client
but before the state file recorded it, that client is orphaned and nothing on the server
says so. So before each registration request one line is appended (and fsync'd) to the
journal beside the state file; once the state write for that registration is done, a
``done`` line follows. An intent with no ``done`` whose id no state entry carries is a
possible orphan: the next run reports it (app key, time, registration endpoint). One
JSON object per line:

    {"op": "create", "id": "4f1c...", "key": "ledger-sync", "issuer": "https://id...",
     "registration_endpoint": "https://id.../reg", "client_name": "Ledger sync",
     "time": "2026-11-27T09:30:00.123+00:00"}
    {"op": "done", "id": "4f1c..."}

A reported orphan stays reported until it is dismissed (a ``done`` line for it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import RegistryError
from reconciler.registries.dcr.files import FileMutex, append_durably, replace_atomically
from reconciler.registries.dcr.state import now

__all__ = ["CreateIntent", "IntentJournal"]


@dataclass(frozen=True)
class CreateIntent:
    """A registration about to be sent; left pending, a possible orphan."""

    id: str
    key: str
    issuer: str
    registration_endpoint: str
    time: str
    client_name: str | None = None
    #: The client the state holds for ``key`` now, if a later run registered one (not
    #: journaled: filled in when orphans are listed).
    replaced_by: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "op": "create",
            "id": self.id,
            "key": self.key,
            "issuer": self.issuer,
            "registration_endpoint": self.registration_endpoint,
            "client_name": self.client_name,
            "time": self.time,
        }

    def orphan_message(self) -> str:
        named = f" named {self.client_name!r}" if self.client_name else ""
        return (
            f"possible orphan: app {self.key!r} was being registered at "
            f"{self.registration_endpoint} at {self.time} when the run stopped; the server may "
            f"hold a client{named} that reconciler never recorded (RFC 7592 cannot list "
            f"clients), and its secret may not have been delivered. "
            + (
                f"A later apply registered client {self.replaced_by} for {self.key!r}, which "
                "is the one reconciler manages now; "
                if self.replaced_by
                else f"Apply registers a new client for {self.key!r} (its secret goes to "
                "--secrets-out); "
            )
            + "look for the orphan in the server's admin console and delete it, then "
            f"dismiss this report (`reconciler dcr orphans --dismiss {self.id}`)."
        )


class IntentJournal:
    def __init__(self, path: Path, mutex: FileMutex) -> None:
        self.path = path
        self._mutex = mutex

    def begin(
        self, key: str, issuer: str, registration_endpoint: str, client_name: str | None
    ) -> CreateIntent:
        intent = CreateIntent(
            uuid.uuid4().hex, key, issuer, registration_endpoint, now(), client_name
        )
        self._append(intent.to_data())
        return intent

    def settle(self, intent_id: str) -> None:
        self._append({"op": "done", "id": intent_id})

    def pending(self) -> list[CreateIntent]:
        """Intents without a ``done`` line, oldest first."""
        intents: dict[str, CreateIntent] = {}
        for record in self._records():
            if record.get("op") == "done":
                intents.pop(str(record.get("id")), None)
            elif record.get("op") == "create":
                intent = _intent(record)
                if intent is not None:
                    intents[intent.id] = intent
        return list(intents.values())

    def compact(self, resolved: Callable[[CreateIntent], bool]) -> None:
        """Rewrite the journal with only the pending intents that are not ``resolved``."""
        with self._mutex.held():
            if not self.path.exists():
                return
            keep = [i for i in self.pending() if not resolved(i)]
            text = "".join(json.dumps(i.to_data(), sort_keys=True) + "\n" for i in keep)
            replace_atomically(self.path, text)

    def _append(self, record: dict[str, Any]) -> None:
        with self._mutex.held():
            append_durably(self.path, json.dumps(record, sort_keys=True))

    def _records(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RegistryError(f"cannot read the intent journal {self.path}: {exc}") from exc
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a kill mid-append carries no complete intent
            if isinstance(record, dict):
                records.append(record)
        return records


def _intent(record: dict[str, Any]) -> CreateIntent | None:
    try:
        return CreateIntent(
            id=str(record["id"]),
            key=str(record["key"]),
            issuer=str(record["issuer"]),
            registration_endpoint=str(record["registration_endpoint"]),
            time=str(record["time"]),
            client_name=record.get("client_name"),
        )
    except KeyError:
        return None
