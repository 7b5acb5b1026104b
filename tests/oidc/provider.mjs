// A real OpenID Provider for tests/oidc.rs: panva's node-oidc-provider
// (OpenID Certified), the version pinned in package.json next to this file,
// served on 127.0.0.1 only. It issues JWT access tokens through the
// client-credentials grant (RFC 6749 §4.4) with resource indicators
// (RFC 8707), signed with keys generated here on every start.
//
// Usage: node provider.mjs --modules DIR [--port N] [--issuer URL]
//          [--client-id ID] [--ttl SECS] [--nbf yes|no]
//          [--encryption yes|no] [--keys-out FILE] [--old-keys FILE]
//   DIR         holds node_modules/oidc-provider (.ci/install-deps puts it
//               in ~/.cache/mesos-auth/oidc-provider)
//   --port 0    (the default) takes a free port; the issuer is then
//               http://127.0.0.1:PORT unless --issuer says otherwise
//   --nbf yes   adds an `nbf` claim (the time of issue) to access tokens,
//               which the provider does not put there by itself (RFC 9068
//               does not ask for it)
//   --encryption yes  turns on the provider's encryption features and adds
//               an RSA key for them (`use: enc`), published in the same
//               JWKS, as providers with encrypted tokens do
//   --keys-out  writes this run's private JWKS (mode 0600), so a restart can
//               keep publishing it with --old-keys (rotation with overlap):
//               old keys are published after the new ones and never sign
// The client secret comes from OIDC_CLIENT_SECRET (not argv: `ps` shows it),
// and the HS256 resource's shared secret from OIDC_HS256_SECRET.
// Prints `ready PORT` on stdout once listening; exits when stdin closes, so
// a test that dies leaves no provider behind.
//
// Resources (the `resource` parameter; each is the token's `aud`):
//   urn:mesos:master      RS256 (also the default resource)
//   urn:mesos:master:es   ES256
//   urn:mesos:master:ed   EdDSA
//   urn:mesos:master:hs   HS256 with the shared secret (only if it is set)
//   urn:other:service     RS256, for an audience the master must refuse

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

const args = new Map();
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) fail(`bad argument \`${argv[i]}\``);
    args.set(argv[i].slice(2), argv[i + 1]);
  }
}
const known = ['modules', 'port', 'issuer', 'client-id', 'ttl', 'nbf', 'encryption', 'keys-out', 'old-keys'];
for (const k of args.keys()) if (!known.includes(k)) fail(`unknown option --${k}`);

// The installed package must be the pinned one: a silent upgrade would test
// something else than what package.json says.
const modules = args.get('modules') ?? fail('--modules DIR is required');
const pinned = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'package.json'), 'utf8'))
  .dependencies['oidc-provider'];
let installed;
try {
  installed = JSON.parse(readFileSync(join(modules, 'node_modules', 'oidc-provider', 'package.json'), 'utf8'));
} catch (e) {
  fail(`oidc-provider is not installed in ${modules} (${e.code ?? e.message}): run .ci/install-deps`);
}
if (installed.version !== pinned) {
  fail(`oidc-provider ${installed.version} is installed in ${modules}, package.json pins ${pinned}: run .ci/install-deps`);
}
const { default: Provider, errors } = await import(
  pathToFileURL(join(modules, 'node_modules', 'oidc-provider', installed.main ?? 'lib/index.js')).href
);

const clientSecret = process.env.OIDC_CLIENT_SECRET ?? fail('OIDC_CLIENT_SECRET is not set');
const clientId = args.get('client-id') ?? 'mesos-scheduler';
const ttl = Number(args.get('ttl') ?? '300');
if (!Number.isInteger(ttl) || ttl < 1) fail('--ttl must be a positive whole number of seconds');
const nbf = args.get('nbf') ?? 'no';
if (nbf !== 'yes' && nbf !== 'no') fail('--nbf must be `yes` or `no`');
const encryption = args.get('encryption') ?? 'no';
if (encryption !== 'yes' && encryption !== 'no') fail('--encryption must be `yes` or `no`');

// Fresh keys on every start: RSA 2048 (RS256), P-256 (ES256), Ed25519.
const jwk = (kind, options) => generateKeyPairSync(kind, options).privateKey.export({ format: 'jwk' });
const keys = [
  jwk('rsa', { modulusLength: 2048 }),
  jwk('ec', { namedCurve: 'P-256' }),
  jwk('ed25519'),
];
if (encryption === 'yes') {
  keys.push({ ...jwk('rsa', { modulusLength: 2048 }), use: 'enc' });
}
if (args.has('keys-out')) {
  writeFileSync(args.get('keys-out'), JSON.stringify({ keys }), { mode: 0o600 });
}
if (args.has('old-keys')) {
  keys.push(...JSON.parse(readFileSync(args.get('old-keys'), 'utf8')).keys);
}

const resources = {
  'urn:mesos:master': 'RS256',
  'urn:mesos:master:es': 'ES256',
  'urn:mesos:master:ed': 'EdDSA',
  'urn:other:service': 'RS256',
};

const hs256 = process.env.OIDC_HS256_SECRET;
if (hs256 !== undefined && hs256.length < 32) fail('OIDC_HS256_SECRET must be at least 32 bytes');

const server = createServer();
server.listen(Number(args.get('port') ?? '0'), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = args.get('issuer') ?? `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mesos',
    }],
    jwks: { keys },
    scopes: ['mesos'],
    // No browser flows here, but the provider warns without cookie keys.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      encryption: { enabled: encryption === 'yes' },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:mesos:master',
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          const alg = resources[resource];
          if (resource === 'urn:mesos:master:hs' && hs256 !== undefined) {
            return {
              scope: 'mesos',
              audience: resource,
              accessTokenTTL: ttl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'HS256', key: hs256 } },
            };
          }
          if (!alg) throw new errors.InvalidTarget();
          return {
            scope: 'mesos',
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          };
        },
      },
    },
    ttl: { ClientCredentials: ttl },
    // Extra claims go into the JWT before the provider's own, so these can
    // add a claim but never replace `iss`, `exp`, `aud` and the rest.
    extraTokenClaims: async () => (nbf === 'yes' ? { nbf: Math.floor(Date.now() / 1000) } : undefined),
  });
  server.on('request', provider.callback());
  process.stdout.write(`ready ${port}\n`);
});
server.on('error', (e) => fail(`cannot listen: ${e.message}`));

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
