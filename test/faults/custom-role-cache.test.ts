import test from 'ava';
import { bearer, giveCustomRole, makeCustomRole, makeServiceAccount, makeTenant } from '../support/factories.ts';
import { cacheHits } from '../support/metrics.ts';
import type { CheckBody } from '../support/responses.ts';
import { canRunSpiceDbServer } from '../support/spicedb-server.ts';
import { twoInstances, untilHeard, writesHeard } from '../support/two-instances.ts';

/**
 * A role edit reaches every holder, so it retires every decision it can change, on every
 * instance: two instances on one database and one SpiceDB, the reader's cached allow through a
 * custom role does not survive the writer's edit (nor its cached denial the edit back).
 */

const withServer = canRunSpiceDbServer ? test : test.skip;

withServer("no cached allow through a custom role survives another instance's edit of the role", async (t) => {
  const [writer, reader] = await twoInstances(t, 'postgres');
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
