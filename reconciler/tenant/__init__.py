"""The embedded Auth0 tenant: the engine behind ``sqlite:`` and ``reconciler serve``.

It is not a registry: ``registries/sqlite.py`` and ``server/`` are its two faces.

engine.py            Tenant: one tenant's clients, credentials, APIs, grants and connections
                     in one SQLite file
store.py             its tables, transactions and every SQL statement
limits.py            Auth0's entity limits per plan (10 applications on a free tenant)
records.py           the records the tenant fills in, as a live Auth0 tenant does
resource_servers.py  resource servers (APIs)
grants.py            client grants: which client may call which API, with which scopes
connections.py       connections and the clients each one is enabled for
paging.py            Auth0's offset and checkpoint (from/take, next) paging of a list
seeding.py           loading APIs, clients, grants and connections that exist elsewhere
query.py             the GET /clients query string, checked as Auth0 checks it
lock.py              the lock one apply holds across its writes
schema.py            the body schema language, worded as Auth0 words it
rules/               what the tenant accepts: clients (third-party ones too), credentials,
                     CIMD registrations, tenant settings
"""
