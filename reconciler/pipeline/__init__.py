"""The use cases: each reads in order, calls the pure core, writes, and returns a result.

The command line parses, calls one of them, renders what it returns and picks the exit
code; what they show while they run goes through a Console. Tests that keep the network
out replace ``planning.make_fetcher``, the one place a run makes its CIMD fetcher.

console.py      what a use case shows and asks while it runs (warnings, plan, prompt, progress)
holdings.py     what a registry holds, read once: apps with their grants and connections
needs.py        what a run is about to ask of its registry, for it to check its credentials
planning.py     the plan use case: manifests, the registry, CIMD documents, then the planner
applying.py     the apply use case: a fresh or saved plan, its gates, the writes, the lock file
rotating.py     the rotate-secret use case
environments.py plan and apply for every environment at once (--all-envs)
pulling.py      the pull use case: drift written back into the manifests, as minimal edits
adopting.py     the adopt and export use cases: registry apps written into manifests
"""

from reconciler.pipeline.applying import Applied, ApplyRequest, apply_workspace
from reconciler.pipeline.console import Console
from reconciler.pipeline.planning import (
    LOCK_NAME,
    Desired,
    Planned,
    Reading,
    connection_for,
    load_desired,
    open_for,
    plan_exit_code,
    plan_workspace,
    read_and_plan,
    update_lock,
)
from reconciler.pipeline.rotating import Rotated, rotate_secrets

__all__ = [
    "LOCK_NAME",
    "Applied",
    "ApplyRequest",
    "Console",
    "Desired",
    "Planned",
    "Reading",
    "Rotated",
    "apply_workspace",
    "connection_for",
    "load_desired",
    "open_for",
    "plan_exit_code",
    "plan_workspace",
    "read_and_plan",
    "rotate_secrets",
    "update_lock",
]
