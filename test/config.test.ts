import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';

test('an empty environment gives defaults that run on a fresh machine', (t) => {
  const config = loadConfig({});
  t.is(config.http.port, 8080);
  t.deepEqual(config.database, { mode: 'embedded', dataDir: '.data', port: 54329, poolMax: 10 });
  t.deepEqual(config.spicedb, { mode: 'embedded', timeoutMs: 2000, decisionCache: { entries: 10_000, maxAgeMs: 2000, denialMaxAgeMs: 30_000 } });
  t.is(config.logLevel, 'info');
  t.is(config.jwt.accessTtlSeconds, 900);
});

test('SPICEDB_ENDPOINT with a preshared key selects server mode, TLS unless SPICEDB_INSECURE', (t) => {
  const secure = loadConfig({ SPICEDB_ENDPOINT: 'spicedb:50051', SPICEDB_PRESHARED_KEY: 'k' });
  t.like(secure.spicedb, { mode: 'server', endpoint: 'spicedb:50051', insecure: false });
  const insecure = loadConfig({ SPICEDB_ENDPOINT: 'spicedb:50051', SPICEDB_PRESHARED_KEY: 'k', SPICEDB_INSECURE: 'true' });
  t.like(insecure.spicedb, { mode: 'server', insecure: true });
});

test('DATABASE_URL selects an external Postgres', (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgres://app@db:5432/authz' });
  t.deepEqual(config.database, { mode: 'external', url: 'postgres://app@db:5432/authz', poolMax: 10 });
});

const badValues: Array<[string, Record<string, string>]> = [
  ['PORT', { PORT: 'eighty' }],
  ['PORT', { PORT: '70000' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://db/authz' }],
  ['SPICEDB_ENDPOINT', { SPICEDB_ENDPOINT: 'http://spicedb', SPICEDB_PRESHARED_KEY: 'k' }],
  ['SPICEDB_PRESHARED_KEY', { SPICEDB_ENDPOINT: 'spicedb:50051' }],
  ['SPICEDB_INSECURE', { SPICEDB_INSECURE: 'yes please' }],
  ['JWT_ALGORITHM', { JWT_ALGORITHM: 'HS256' }],
  ['LOOKUP_CURSOR_TTL_SECONDS', { LOOKUP_CURSOR_TTL_SECONDS: '0' }],
  ['AUDIT_CHECKPOINT_INTERVAL_SECONDS', { AUDIT_CHECKPOINT_INTERVAL_SECONDS: 'hourly' }],
];

for (const [variable, environment] of badValues) {
  test(`a bad ${variable} (${JSON.stringify(environment)}) is one line naming the variable`, (t) => {
    const error = t.throws(() => loadConfig(environment), { instanceOf: ConfigError });
    t.regex(error?.message ?? '', new RegExp(`^Invalid configuration: .*\\b${variable}\\b`));
    t.false(error?.message.includes('\n'));
  });
}

test('a configuration error names a secret-bearing variable without echoing its value', (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/authz' }));
  t.regex(error?.message ?? '', /DATABASE_URL/);
  t.false(error?.message.includes('hunter2'));
});

test('JWT_PRIVATE_KEY must be a private key that can sign with JWT_ALGORITHM', (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });

  t.regex(t.throws(() => loadConfig({ JWT_PRIVATE_KEY: 'not a key' }))?.message ?? '', /JWT_PRIVATE_KEY must be a PKCS#8 PEM or JWK/);
  t.regex(t.throws(() => loadConfig({ JWT_PRIVATE_KEY: rsa.toString() }))?.message ?? '', /JWT_PRIVATE_KEY is a rsa key/);
  t.is(loadConfig({ JWT_PRIVATE_KEY: p256.toString() }).jwt.algorithm, 'ES256');
  t.is(loadConfig({ JWT_PRIVATE_KEY: JSON.stringify(ed25519), JWT_ALGORITHM: 'EdDSA' }).jwt.algorithm, 'EdDSA');
});

test('AUDIT_CHECKPOINT_KEY must be an Ed25519 private key, and SERVER_SECRET at least 32 characters; neither is echoed', (t) => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  t.regex(t.throws(() => loadConfig({ AUDIT_CHECKPOINT_KEY: p256 }))?.message ?? '', /AUDIT_CHECKPOINT_KEY is a ec key, which cannot sign audit checkpoints/);
  t.is(loadConfig({ AUDIT_CHECKPOINT_KEY: ed25519 }).audit.checkpointKey, ed25519);
  const short = t.throws(() => loadConfig({ SERVER_SECRET: 'hunter2' }))?.message ?? '';
  t.regex(short, /SERVER_SECRET must be at least 32 characters/);
  t.false(short.includes('hunter2'));
  t.deepEqual(loadConfig({}).sealing, { serverSecret: undefined, lookupCursorTtlSeconds: 300 });
});

test("PLAN_LIMITS: custom roles take the plan's default when left out, and may be 0 (none)", (t) => {
  t.deepEqual(loadConfig({}).planLimits.free, { members: 5, workspaces: 3, custom_roles: 3, custom_roles_per_member: 2 });
  const limits = loadConfig({
    PLAN_LIMITS: JSON.stringify({
      free: { members: 5, workspaces: 3, custom_roles: 0 },
      pro: { members: 50, workspaces: 20 },
      enterprise: { members: null, workspaces: null, custom_roles: null, custom_roles_per_member: null },
    }),
  }).planLimits;
  t.deepEqual(limits.free, { members: 5, workspaces: 3, custom_roles: 0, custom_roles_per_member: 2 });
  t.deepEqual(limits.pro, { members: 50, workspaces: 20, custom_roles: 25, custom_roles_per_member: 5 });
  t.deepEqual(limits.enterprise, { members: null, workspaces: null, custom_roles: null, custom_roles_per_member: null });
  t.throws(() => loadConfig({ PLAN_LIMITS: JSON.stringify({ free: { members: 5, workspaces: 3, custom_roles: -1 }, pro: { members: 1, workspaces: 1 }, enterprise: { members: 1, workspaces: 1 } }) }));
});
