import test from 'ava';
import { connectSpiceDb } from '../../src/authz/spicedb.client.js';
import { loadConfig } from '../../src/config.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createTestDatabase } from '../support/database.js';
import { newSignup, type SessionBody } from '../support/factories.js';
import { freePort, startMain, waitUntilReady } from '../support/processes.js';
import { canRunSpiceDbServer, startSpiceDbServer, TcpProxy } from '../support/spicedb-server.js';

const withServer = canRunSpiceDbServer ? test : test.skip;

withServer('a grant committed just before the process is killed (SIGKILL) is in SpiceDB after a restart', async (t) => {
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
    SPICEDB_TIMEOUT_MS: '500',
    PASSWORD_HASH_COST: '10',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  };

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
