import test, { type ExecutionContext } from 'ava';
import { connectSpiceDb } from '../../src/authz/spicedb.client.ts';
import { loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { decodeJwt } from 'jose';
import { createTestDatabase } from '../support/database.ts';
import { newSignup } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { freePort, startMain, waitUntilReady } from '../support/processes.ts';
import { canRunSpiceDbServer, startSpiceDbServer, TcpProxy } from '../support/spicedb-server.ts';

const withServer = canRunSpiceDbServer ? test : test.skip;

/**
 * A private `spicedb serve` behind a proxy, a fresh database, and the environment that runs
 * src/main.ts against them as a child process the test can SIGKILL.
 */
async function killableSetup(t: ExecutionContext, spicedbTimeoutMs: string) {
  const spicedb = await startSpiceDbServer();
  t.teardown(() => spicedb.stop());
  const proxy = await TcpProxy.inFrontOf(spicedb.endpoint);
  t.teardown(() => proxy.disconnect());
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const port = await freePort();
  const environment = {
    DATABASE_URL: database.url,
    SPICEDB_ENDPOINT: proxy.endpoint,
    SPICEDB_PRESHARED_KEY: spicedb.presharedKey,
    SPICEDB_INSECURE: 'true',
    SPICEDB_TIMEOUT_MS: spicedbTimeoutMs,
    PASSWORD_HASH_COST: '10',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  };
  return { proxy, database, port, environment };
}

withServer('a grant committed just before the process is killed (SIGKILL) is in SpiceDB after a restart', async (t) => {
  const { proxy, port, environment } = await killableSetup(t, '500');

  const first = startMain(environment);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitUntilReady(`http://127.0.0.1:${port}/readyz`, first.exited);
  // SpiceDB out of reach: the signup commits in Postgres, and its tuples wait in the outbox.
  await proxy.disconnect();
  const signup = await fetch(`http://127.0.0.1:${port}/api/v1/auth/email/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(newSignup()),
  });
  t.is(signup.status, 201);
  const session = (await signup.json()) as SessionBody;
  first.child.kill('SIGKILL');
  await first.exited;

  await proxy.reconnect();
  const second = startMain(environment);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitUntilReady(`http://127.0.0.1:${port}/readyz`, second.exited);

  const client = await connectSpiceDb(loadConfig(environment).spicedb, new Metrics());
  t.teardown(() => client.close());
  const tuples = await client.readRelationships({ resourceType: 'organization', subject: { type: 'user', id: session.user.id } });
  t.deepEqual(tuples.map((tuple) => tuple.relation), ['owner']);
});

withServer('a revocation killed (SIGKILL) before its commit leaves the user without access, never the reverse', async (t) => {
  const { proxy, database, port, environment } = await killableSetup(t, '15000');
  const base = `http://127.0.0.1:${port}/api/v1`;
  const send = async (method: string, path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });

  const service = startMain(environment);
  t.teardown(() => service.child.kill('SIGKILL'));
  await waitUntilReady(`http://127.0.0.1:${port}/readyz`, service.exited);
  const owner = (await (await send('POST', '/auth/email/signup', newSignup())).json()) as SessionBody;
  const member = (await (await send('POST', '/auth/email/signup', newSignup())).json()) as SessionBody;
  const organizationId = String(decodeJwt(owner.access_token).org_id);
  const proposed = await send('POST', `/orgs/${organizationId}/members`, { user_id: member.user.id, role: 'member' }, owner.access_token);
  const { id: proposal } = (await proposed.json()) as { id: string };
  t.is((await send('POST', `/auth/me/invitations/${proposal}/accept`, undefined, member.access_token)).status, 200);

  // SpiceDB slowed by 2 s each way: the permission check takes ~4 s, then the removal's DELETE
  // leaves (~4 s) and would answer at ~8 s. The process dies at 6 s: the DELETE is in flight and
  // nothing is committed.
  proxy.delayMs = 2_000;
  const removal = send('DELETE', `/orgs/${organizationId}/members/${member.user.id}`, undefined, owner.access_token).catch(() => null);
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  service.child.kill('SIGKILL');
  await service.exited;
  await removal;
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  proxy.delayMs = 0;

  const client = await connectSpiceDb(loadConfig(environment).spicedb, new Metrics());
  t.teardown(() => client.close());
  const check = await client.checkPermission(
    { resource: { type: 'organization', id: organizationId }, permission: 'view', subject: { type: 'user', id: member.user.id } },
    { kind: 'fully_consistent' },
  );
  t.false(check.allowed, 'the revocation reached SpiceDB before anything was committed');
  const { rows } = await import('pg').then(async ({ default: pg }) => {
    const pgClient = new pg.Client({ connectionString: database.url });
    await pgClient.connect();
    try {
      return await pgClient.query('select role from organization_memberships where organization_id = $1 and user_id = $2', [organizationId, member.user.id]);
    } finally {
      await pgClient.end();
    }
  });
  t.is(rows.length, 1, 'Postgres still records the membership: SpiceDB grants less than Postgres, never more');
});
