import test from 'ava';
import { createTestDatabase } from '../support/database.ts';
import { bearer, giveCustomRole, makeCustomRole, makeServiceAccount, makeTenant } from '../support/factories.ts';
import { cacheHits } from '../support/metrics.ts';
import type { CheckBody } from '../support/responses.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

/**
 * A role edit reaches every holder, so it retires every decision it can change, on every
 * instance: two instances on one database and one SpiceDB, the reader's cached allow through a
 * custom role does not survive the writer's edit (nor its cached denial the edit back).
 */

const withServer = canRunSpiceDbServer ? test : test.skip;

async function writesHeard(service: TestService): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(/^authz_floor_propagation_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
}

async function untilHeard(service: TestService, before: number): Promise<void> {
  for (let attempt = 0; attempt < 500 && (await writesHeard(service)) <= before; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

withServer("no cached allow through a custom role survives another instance's edit of the role", async (t) => {
  const spicedb = await startSpiceDbServer({ datastore: 'postgres' });
  t.teardown(() => spicedb.stop());
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const environment = {
    SPICEDB_ENDPOINT: spicedb.endpoint,
    SPICEDB_PRESHARED_KEY: spicedb.presharedKey,
    SPICEDB_INSECURE: 'true',
    // Only a write may end a cached allow here, not its age.
    DECISION_CACHE_MAX_AGE_MS: '60000',
  };
  const [writer, reader] = [await startTestService({ database, environment }), await startTestService({ database, environment })];
  t.teardown(async () => {
    await writer.stop();
    await reader.stop();
  });
  const tenant = await makeTenant(writer);
  const roleId = await makeCustomRole(writer, tenant, ['org:billing', 'org:audit_log'], 'Billing manager');
  await giveCustomRole(writer, tenant, roleId, tenant.member);
  const { key } = await makeServiceAccount(writer, [], { organizationIds: [tenant.organizationId] });
  const auditLog = async (userId: string) => {
    const body = { resource: { type: 'organization', id: tenant.organizationId }, permission: 'audit_log', subject: { type: 'user', id: userId } };
    const response = await reader.send('POST', '/api/v1/authz/check', body, bearer(key));
    return ((await response.json()) as CheckBody).allowed;
  };
  t.true(await auditLog(tenant.member.id));
  const hits = await cacheHits(reader);
  t.true(await auditLog(tenant.member.id));
  t.is(await cacheHits(reader), hits + 1, "the reader answers the second check from its cache");

  const heard = await writesHeard(reader);
  const edited = await writer.send('PATCH', `/api/v1/roles/${roleId}`, { permissions: ['org:billing'] }, bearer(tenant.owner.accessToken));
  t.is(edited.status, 200);
  await untilHeard(reader, heard);
  t.false(await auditLog(tenant.member.id), 'the cached allow did not survive the edit');

  // And giving the permission back reaches them again: the cached denial goes too.
  const heardAgain = await writesHeard(reader);
  t.is((await writer.send('PATCH', `/api/v1/roles/${roleId}`, { permissions: ['org:audit_log'] }, bearer(tenant.owner.accessToken))).status, 200);
  await untilHeard(reader, heardAgain);
  t.true(await auditLog(tenant.member.id));
});
