import { randomUUID } from 'node:crypto';
import test from 'ava';
import pg from 'pg';
import { createTestDatabase } from '../support/database.ts';
import { as, bearer, makeServiceAccount, makeTenant } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

/**
 * Postgres answers but gives no connection ("sorry, too many clients already", SQLSTATE 53300),
 * as when a busy server's max_connections is spent. The service logs in as a role of its own
 * whose connection limit the test drops to zero, then ends the role's pooled connections.
 */
test('with Postgres out of connections requests answer 503 with Retry-After, never 500, and the service recovers', async (t) => {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const role = `tenant_authz_limited_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const database = await createTestDatabase();
  await admin.query(`create role ${role} login connection limit -1`);
  await admin.query(`alter database ${pg.escapeIdentifier(new URL(database.url).pathname.slice(1))} owner to ${role}`);
  const asRole = new URL(database.url);
  asRole.username = role;
  const service = await startTestService({ database, environment: { DATABASE_URL: asRole.toString(), DATABASE_POOL_MAX: '3' } });
  try {
    const tenant = await makeTenant(service);
    const { key } = await makeServiceAccount(service);
    await admin.query(`alter role ${role} connection limit 0`);
    // Every pooled connection ends; the one holding the embedded-SpiceDB lock stays (it is not the pool).
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and query not like '%pg_try_advisory_lock%'`, [role]);

    for (const [method, path] of [
      ['GET', `/api/v1/orgs/${tenant.organizationId}`],
      ['PATCH', `/api/v1/orgs/${tenant.organizationId}`],
      ['GET', '/api/v1/orgs'],
    ] as const) {
      const response = await as(service, tenant.owner).send(method, path, method === 'PATCH' ? { name: 'Renamed in the outage' } : undefined);
      t.is(response.status, 503, `${method} ${path}`);
      t.is(response.headers.get('content-type'), 'application/problem+json');
      t.is(response.headers.get('retry-after'), '2');
      t.like(await response.json(), { type: 'urn:tenant-authz:problem:unavailable', status: 503 });
    }
    // A service's check: its key is looked up in Postgres (where "too many clients" once answered 500).
    const check = await service.send(
      'POST',
      '/api/v1/authz/check',
      { resource: { type: 'organization', id: tenant.organizationId }, permission: 'view', subject: { type: 'user', id: tenant.owner.id } },
      bearer(key),
    );
    t.is(check.status, 503, 'a check that cannot authenticate its caller fails closed');
    t.is(check.headers.get('retry-after'), '2');

    await admin.query(`alter role ${role} connection limit -1`);
    const organization = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}`);
    t.is(organization.status, 200);
    t.not(((await organization.json()) as { name: string }).name, 'Renamed in the outage', 'the refused change changed nothing');
  } finally {
    await service.stop();
    await database.drop();
    await admin.query(`drop role if exists ${role}`).catch(() => {});
    await admin.end();
  }
});
