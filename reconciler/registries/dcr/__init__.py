"""``dcr+https://ISSUER``: any authorization server with RFC 7591 and RFC 7592.

registry.py   the Registry: registrations, reads, updates, deletes, adoption
http.py       RFC 7591/7592 requests over an injected httpx client
metadata.py   canonical fields <-> client metadata
state.py      the state file: what reconciler knows about each client it registered
journal.py    the intent journal: a durable note before each registration
apps.py       the App values the backend reports
files.py      its local files: a private directory, RegistryError on failure, flock locks
"""
