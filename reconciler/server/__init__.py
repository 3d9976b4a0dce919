"""``reconciler serve``: the embedded registry's HTTP face, an Auth0 Management API emulator.

app.py          Request -> Response: faults, rate limit, routing, auth, the tenant
auth.py         /oauth/token, Bearer tokens (HS256 JWTs) and scopes
assertions.py   the management client's private_key_jwt client assertions, as Auth0 checks them
clients_api.py  /api/v2/clients routes
resource_servers_api.py  /api/v2/resource-servers routes
client_grants_api.py     /api/v2/client-grants routes
connections_api.py       /api/v2/connections routes and their enabled clients
cimd_api.py     /api/v2/clients/cimd/preview and /register
tenant_settings_api.py   /api/v2/tenants/settings (the CIMD switch)
control.py      /__control/ test hooks and the request log
documents.py    where CIMD documents come from (fixtures, the network)
messages.py     HTTP requests and responses as plain values (no socket)
faults.py       injected 429/5xx answers and delays
ratelimit.py    token buckets and Auth0's tier presets
listener.py     Server: the app on a socket (ThreadingHTTPServer, optional TLS)
command.py      the click command
"""

from reconciler.server.command import serve, serve_command
from reconciler.server.documents import DocumentSource, FixtureDocuments, network_documents
from reconciler.server.listener import Server

__all__ = [
    "DocumentSource",
    "FixtureDocuments",
    "Server",
    "network_documents",
    "serve",
    "serve_command",
]
