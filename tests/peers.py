"""node-oidc-provider (tests/peer, pinned by its lockfile) started on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

PEER = Path(__file__).parent / "peer"
STARTUP_SECONDS = 20


@contextmanager
def oidc_provider(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run the peer until the block ends; yields its issuer (``http://127.0.0.1:PORT``)."""
    node = shutil.which("node")
    if node is None or not (PEER / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "node-oidc-provider is not installed: run `npm ci` in tests/peer (.ci/run does)"
        )
    process = subprocess.Popen(
        [node, str(PEER / "server.mjs")],
        cwd=PEER,
        env={**os.environ, "PORT": "0", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    ready: list[str] = []
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("READY ") and not ready:
                ready.append(line.split()[1])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        waited = 0.0
        while not ready:
            if process.poll() is not None or waited > STARTUP_SECONDS:
                raise RuntimeError("the peer did not start:\n" + "\n".join(lines))
            threading.Event().wait(0.02)
            waited += 0.02
        yield ready[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()
