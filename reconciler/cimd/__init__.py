"""Client ID Metadata Documents: URL rules, safe fetching, validation, and the lock file.

url.py          what a CIMD URL may be (CIMD draft section 3)
addresses.py    where a fetch may connect: resolution and special-use address ranges
pinned.py       kept HTTPS connections, each to a vetted address, and their httpx transport
caching.py      how long a fetched document may be relied on
policy.py       CimdPolicy: what the settings allow the fetcher
fetch.py        CimdFetcher: documents and key sets, size and time limits
document.py     what a document may say (CIMD draft section 4, stricter where Auth0 is)
lockfile.py     reconciler.lock: the digest of every document a plan relied on
sources.py      one run's sources: each document fetched, validated, weighed against the lock
"""
