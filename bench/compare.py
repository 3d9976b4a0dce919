"""Before and after, in one run: the same benchmark scripts on two revisions, interleaved.

A shared, noisy machine makes figures from different sessions incomparable; ratios of runs
taken turn about in one session are not. Each revision is checked out with ``git archive``
into a scratch directory and its own ``bench/`` scripts run against its own package, with
this interpreter (so the same libraries). Prints every figure's median per revision and
the ratio after / before.

Usage: python bench/compare.py BEFORE [AFTER] [--rounds N] [--script NAME ...]
(AFTER defaults to the working tree; scripts default to validate.py and plan.py).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The first "<label> 0.512 s" of a line, e.g. "validate: 10000 apps in 100 files: 1.52 s".
FIGURE = re.compile(r"^(?P<label>.*?)(?P<seconds>\d+\.\d+) s\b")


def checkout(revision: str, scratch: Path) -> Path:
    """The tree of ``revision`` in ``scratch`` (the working tree itself for "WORKTREE")."""
    if revision == "WORKTREE":
        return ROOT
    target = scratch / revision.replace("/", "_")
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def figures(tree: Path, script: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(tree / "bench" / script)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stdout.splitlines():
        match = FIGURE.match(line)
        if match:
            label = match["label"].strip().rstrip(":=").strip()
            found[f"{script}: {label}"] = float(match["seconds"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default="WORKTREE")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--script", action="append", dest="scripts")
    args = parser.parse_args()
    scripts = args.scripts or ["validate.py", "plan.py"]
    runs: dict[str, dict[str, list[float]]] = {
        "before": defaultdict(list),
        "after": defaultdict(list),
    }
    with tempfile.TemporaryDirectory() as scratch:
        trees = {
            "before": checkout(args.before, Path(scratch)),
            "after": checkout(args.after, Path(scratch)),
        }
        for _ in range(args.rounds):
            for script in scripts:
                for side in ("before", "after"):
                    for label, seconds in figures(trees[side], script).items():
                        runs[side][label].append(seconds)
    print(f"before: {args.before}, after: {args.after}, {args.rounds} rounds, medians")
    for label in runs["before"]:
        if label not in runs["after"]:
            continue
        before = statistics.median(runs["before"][label])
        after = statistics.median(runs["after"][label])
        ratio = after / before if before else float("nan")
        print(f"  {label:<44} {before:8.3f} s {after:8.3f} s  {ratio:5.2f}x")


if __name__ == "__main__":
    main()
