import test from 'ava';
import { as, makeTenant } from '../support/factories.ts';
import { createTestDatabase } from '../support/database.ts';
import { eventually } from '../support/eventually.ts';
import { TcpProxy } from '../support/spicedb-server.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

/** The service reaches its Postgres through a proxy the tests cut and restore. */
let proxy: TcpProxy;
let service: TestService;
test.before(async () => {
  const database = await createTestDatabase();
  const direct = new URL(database.url);
  proxy = await TcpProxy.inFrontOf(`${direct.hostname}:${direct.port || '5432'}`);
  const proxied = new URL(database.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  service = await startTestService({ database: { url: proxied.toString(), drop: database.drop }, environment: { DATABASE_URL: proxied.toString() } });
});
test.after.always(async () => {
  await proxy?.reconnect().catch(() => {});
  await service?.stop();
  await service?.database.drop();
  await proxy?.disconnect();
});

test.serial('with Postgres unreachable requests answer 503 problem+json, SpiceDB is left untouched, and it recovers without a restart', async (t) => {
  const tenant = await makeTenant(service);
  const memberTuple = { resourceType: 'organization', resourceId: tenant.organizationId, subject: { type: 'user', id: tenant.member.id } };
  await proxy.disconnect();
  try {
    for (const [method, path] of [
      ['GET', `/api/v1/orgs/${tenant.organizationId}`],
      ['DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`],
      ['GET', '/api/v1/orgs'],
    ] as const) {
      const response = await as(service, tenant.owner).send(method, path);
      t.is(response.status, 503, `${method} ${path}`);
      t.is(response.headers.get('content-type'), 'application/problem+json');
      t.truthy(response.headers.get('retry-after'), `${method} ${path} says when to try again`);
    }
    t.is((await service.request('/readyz')).status, 503);
    t.deepEqual(
      (await service.spicedb.readRelationships(memberTuple)).map((tuple) => tuple.relation),
      ['member'],
      'no partial revocation reached SpiceDB',
    );
  } finally {
    await proxy.reconnect();
  }
  t.true(await eventually(async () => (await service.request('/readyz').catch(() => undefined))?.status === 200));
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200);
});
