"""Apply: the only write path, from a reviewed Plan to a registry, and the secrets it yields.

applier.py      executes a Plan against a Registry, change by change
access.py       what apps may access (grants, connection links), written beside their clients
handover.py     secrets on their way to the sink, written in durable batches
secrets.py      the --secrets-out file (mode 0600, flock, atomic replace)
interrupts.py   Ctrl-C and SIGTERM: finish the writes in flight, start no new one
report.py       what an apply did: a line per change, and the summary
"""
