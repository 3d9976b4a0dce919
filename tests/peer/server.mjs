// Minimal oidc-provider peer for RFC 7591 / RFC 7592 (+ CIMD) integration tests.
// Usage: PORT=3000 node server.mjs
// Env:
//   PORT           listen port on 127.0.0.1 (default 3000; 0 = pick a free port)
//   ISSUER         issuer URL (default http://127.0.0.1:<actual port>)
//   IAT            if set, a fixed initial access token required for POST /reg
//   ROTATE_RAT     "0" to keep the same registration_access_token across PUTs (default: rotate)
//   CIMD_FETCH_MAP JSON object {"https://client.example.test": "http://127.0.0.1:9100", ...}
//                  CIMD client_id URLs whose prefix matches are fetched from the mapped
//                  loopback origin instead (offline testing; SSRF guard is bypassed only for those).
//   EXTRA_METADATA comma list of extra client metadata names to store/echo, e.g. "software_id,software_version"
//   TLS_CERT, TLS_KEY  optional PEM paths; if both set, serve HTTPS (issuer becomes https://...)
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import Provider from 'oidc-provider';

const t0 = process.hrtime.bigint();
const host = '127.0.0.1';
const requestedPort = Number(process.env.PORT ?? 3000);
const cimdMap = Object.entries(JSON.parse(process.env.CIMD_FETCH_MAP || '{}'));

const tls = process.env.TLS_CERT && process.env.TLS_KEY;
// Bind first so that port 0 works and the issuer can contain the real port.
const server = tls
  ? https.createServer({ cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) })
  : http.createServer();
await new Promise((resolve) => server.listen(requestedPort, host, resolve));
const { port } = server.address();
const issuer = process.env.ISSUER || `${tls ? 'https' : 'http'}://${host}:${port}`;

const provider = new Provider(issuer, {
  // the scopes a client may register (RFC 7591 `scope`) and then ask tokens for
  scopes: ['openid', 'offline_access', 'read:entries', 'write:entries', 'admin:entries'],
  // clients registered via /reg live in the default in-memory adapter (lost on exit)
  extraClientMetadata: {
    properties: (process.env.EXTRA_METADATA || '').split(',').filter(Boolean),
  },
  features: {
    devInteractions: { enabled: false },   // not needed for DCR tests
    clientCredentials: { enabled: true },  // lets a test prove a registered secret works
    introspection: { enabled: true },
    registration: {
      enabled: true,
      initialAccessToken: process.env.IAT || false, // string => fixed bearer token required
    },
    registrationManagement: {
      enabled: true,
      rotateRegistrationAccessToken: process.env.ROTATE_RAT !== '0',
    },
    clientIdMetadataDocument: {
      enabled: true,
      ack: 'draft-02', // experimental feature; acknowledges implemented draft version
    },
  },
  // Outgoing fetches (CIMD documents, jwks_uri, sector_identifier_uri ...)
  fetch(url, options) {
    const href = String(url);
    for (const [prefix, target] of cimdMap) {
      if (href.startsWith(prefix)) {
        const { dispatcher, ...rest } = options; // drop SSRF guard (it blocks 127/8)
        return globalThis.fetch(target + href.slice(prefix.length), rest);
      }
    }
    return globalThis.fetch(url, options);
  },
});

// Log every request + response status (useful for debugging tests).
provider.use(async (ctx, next) => {
  await next();
  console.log(`${ctx.method} ${ctx.originalUrl} -> ${ctx.status}`);
});
for (const ev of ['registration_create.error', 'registration_read.error',
  'registration_update.error', 'registration_delete.error', 'server_error']) {
  provider.on(ev, (ctx, err) => console.log(`${ev}: ${err.message} ${err.error_description ?? ''}`));
}

server.on('request', provider.callback());
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(`READY ${issuer} (startup ${ms.toFixed(0)} ms after module load)`);

const shutdown = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
