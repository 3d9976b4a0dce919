"""``auth0://TENANT_DOMAIN``: the Auth0 Management API v2.

registry.py   the Registry over an injected httpx client (paging, retries, scope checks)
tokens.py     the Management API token: audience, client credentials, retries, scopes
assertion.py  the management client's private_key_jwt client assertion
scopes.py     the scopes each operation needs, and what a token lacks
paging.py     offset reads that cannot skip an item while the list moves
pool.py       the daemon threads that send a read's requests side by side
ratelimit.py  client-side pacing under the server's token bucket
lease.py      the apply lease: a mutex kept in the tenant itself
"""
