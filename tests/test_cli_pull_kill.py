"""``reconciler pull`` killed (SIGKILL) at any instant: each manifest is the old text or
the new one, never a mix; nothing a run would read as a manifest is left beside it; and
the next pull finishes the edit, after which plan has nothing to do."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from reconciler.tenant.engine import Tenant

ROOT = Path(__file__).resolve().parents[1]
APPS = (
    "apps:\n"
    "  portal:\n"
    "    name: Portal  # the customer portal\n"
    "    type: regular_web\n"
    '    callbacks: ["https://portal.example.com/cb"]\n'
    "  worker:\n"
    "    name: Worker\n"
    "    type: m2m\n"
)
KILLS = 12


def reconciler(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from reconciler.cli import main; main()", *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(root: Path, *args: str) -> tuple[int, str]:
    process = reconciler(root, *args)
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def test_a_pull_killed_at_any_instant_leaves_old_or_new_and_the_next_one_finishes(
    tmp_path: Path,
) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
    )
    (tmp_path / "apps").mkdir()
    manifest = tmp_path / "apps" / "apps.yaml"
    manifest.write_text(APPS)
    code, output = finished(tmp_path, "apply", "--auto-approve", "--secrets-out", "s.json")
    assert code == 0, output
    with Tenant(tmp_path / "registry.db") as tenant:
        [portal] = [
            client
            for client in tenant.all_clients()
            if (client.get("client_metadata") or {}).get("reconciler_key") == "portal"
        ]
        tenant.patch_client(portal["client_id"], {"name": "Portal EU"})
    pulled = APPS.replace("name: Portal  #", "name: Portal EU  #")
    entries = sorted(path.name for path in (tmp_path / "apps").iterdir())
    chance = random.Random(14)
    outcomes: list[bool] = []
    for _ in range(KILLS):
        manifest.write_text(APPS)
        process = reconciler(tmp_path, "pull")
        time.sleep(chance.uniform(0.05, 0.9))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        text = manifest.read_text()
        assert text in (APPS, pulled), text
        outcomes.append(text == pulled)
        shown = sorted(p.name for p in (tmp_path / "apps").iterdir() if not p.name.startswith("."))
        assert shown == entries
        code, output = finished(tmp_path, "validate")
        assert code == 0, output
    print(f"kills that landed after the write: {sum(outcomes)} of {KILLS}")
    code, output = finished(tmp_path, "pull")
    assert code in (0, 2), output
    assert manifest.read_text() == pulled
    code, output = finished(tmp_path, "plan", "--detailed-exitcode")
    assert code == 0, output
