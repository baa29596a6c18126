import { SessionRevocations } from '../../src/authz/session-revocations.ts';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { connectSpiceDb } from '../../src/authz/spicedb.client.ts';
import { loadConfig } from '../../src/config.ts';
import { openOrm } from '../../src/db/orm.ts';
import { readPolicy } from '../../src/authz/policy-modules.ts';
import { composeApplication } from '../../src/composition.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createTestDatabase } from '../support/database.ts';

/** A port that nothing listens on: bound once to learn a free number, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function appWith(options: { spicedbEndpoint?: string; closeOrm?: boolean }) {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    SPICEDB_TIMEOUT_MS: '500',
    ...(options.spicedbEndpoint && {
      SPICEDB_ENDPOINT: options.spicedbEndpoint,
      SPICEDB_PRESHARED_KEY: 'unused',
      SPICEDB_INSECURE: 'true',
    }),
  });
  const metrics = new Metrics();
  const orm = await openOrm(database.url);
  const spicedb = await connectSpiceDb(config.spicedb, metrics);
  await spicedb.writeSchema('definition user {}').catch(() => {});
  const revocations = await SessionRevocations.open(database.url, orm, config.jwt.accessTtlSeconds, metrics, createLogger('silent'));
  const policy = readPolicy(undefined);
  const { app } = await composeApplication({ config, logger: createLogger('silent'), metrics, orm, spicedb, policy, revocations });
  if (options.closeOrm) await orm.close();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await revocations.close();
      await new Promise((resolve) => server.close(resolve));
      spicedb.close();
      await orm.close();
      await database.drop();
    },
  };
}

test('GET /readyz answers 503 problem+json when SpiceDB is unreachable', async (t) => {
  const app = await appWith({ spicedbEndpoint: `127.0.0.1:${await closedPort()}` });
  t.teardown(() => app.close());
  const response = await fetch(`${app.url}/readyz`);
  t.is(response.status, 503);
  t.is(response.headers.get('content-type'), 'application/problem+json');
  t.like(await response.json(), { status: 503, detail: 'Not ready: spicedb did not answer' });
});

test('GET /readyz answers 503 problem+json when Postgres is unreachable', async (t) => {
  const app = await appWith({ closeOrm: true });
  t.teardown(() => app.close());
  const response = await fetch(`${app.url}/readyz`);
  t.is(response.status, 503);
  t.like(await response.json(), { status: 503, detail: 'Not ready: postgres did not answer' });
});
