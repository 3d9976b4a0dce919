"""Wall time of the commands a pre-commit hook runs, beside ``python -c pass``, in one run.

Each command is a fresh process, as the hook starts one: ``reconciler --help`` and
``reconciler validate examples``, run as the ``reconciler`` console script runs them
(``from reconciler.cli import main; main()``, with this interpreter), against the
package of each tree given (default: this checkout), with PYTHONPATH set to that tree and
the tree as the working directory. Bytecode is written and a first round is not counted,
as an installed package runs from its .pyc files (PYTHONDONTWRITEBYTECODE is dropped, so
each tree gets __pycache__ directories; point --tree at a copy, e.g. from git archive, to
keep a checkout clean). Rounds are taken turn about, every command and tree in each round,
so a noisy machine slows all of them alike. Prints medians (target: under 0.3 s, within
6x of ``python -c pass``).

Usage: python bench/startup.py [--rounds N] [--tree DIR ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = "from reconciler.cli import main; main()"
COMMANDS = {
    "reconciler --help": ["--help"],
    "reconciler validate examples": ["validate", "examples"],
}


def wall(argv: list[str], tree: Path) -> float:
    """Seconds from starting ``argv`` to its exit; it must succeed."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run(argv, cwd=tree, env=environment, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tree", action="append", type=Path, dest="trees")
    args = parser.parse_args()
    trees: list[Path] = [tree.resolve() for tree in args.trees or [ROOT]]
    runs: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds + 1):
        runs["python -c pass"].append(wall([sys.executable, "-c", "pass"], ROOT))
        for tree in trees:
            for label, arguments in COMMANDS.items():
                argv = [sys.executable, "-c", CONSOLE_SCRIPT, *arguments]
                runs[f"{label} [{tree.name}]" if len(trees) > 1 else label].append(wall(argv, tree))
    runs = {label: seconds[1:] for label, seconds in runs.items()}  # the warm-up round
    floor = statistics.median(runs["python -c pass"])
    print(f"{args.rounds} rounds, medians, {sys.executable}")
    for label, seconds in runs.items():
        median = statistics.median(seconds)
        ratio = "" if label == "python -c pass" else f"  ({median / floor:.1f}x python -c pass)"
        print(f"{label}: {median:.3f} s{ratio}")


if __name__ == "__main__":
    main()
