import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { reconcile } from '../../src/authz/reconcile.ts';
import { tupleKey } from '../../src/authz/relationships.ts';
import type { Relationship } from '../../src/authz/types.ts';
import { bearer, makeServiceAccount, makeTeam, makeTenant, onBehalfOf } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

// Reconcile looks at every tuple of its SpiceDB, so each service here has a SpiceDB of its own.
const PRIVATE_EMBEDDED_SPICEDB = { SPICEDB_ENDPOINT: '' };
// And each test boots a whole service on a fresh database: one at a time, since eight booting at
// once beside the other files made Postgres miss the 5 s connect timeout in CI.

/** Adds a stray admin tuple and drops the member's tuple, behind the service's back. */
async function driftBehindTheServicesBack(service: TestService) {
  const tenant = await makeTenant(service);
  const stray: Relationship = {
    resource: { type: 'organization', id: tenant.organizationId },
    relation: 'admin',
    subject: { type: 'user', id: tenant.stranger.id },
  };
  const lost: Relationship = {
    resource: { type: 'organization', id: tenant.organizationId },
    relation: 'member',
    subject: { type: 'user', id: tenant.member.id },
  };
  const orphan: Relationship = {
    resource: { type: 'chatbot', id: 'bot_of_a_deleted_workspace' },
    relation: 'workspace',
    subject: { type: 'workspace', id: '00000000-0000-4000-8000-00000000dead' },
  };
  await service.spicedb.writeRelationships([
    { operation: 'touch', relationship: stray },
    { operation: 'delete', relationship: lost },
    { operation: 'touch', relationship: orphan },
  ]);
  return { tenant, stray, lost, orphan };
}

test.serial('reconcile finds tuples added and removed behind the service’s back, and --fix repairs them', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const { stray, lost, orphan } = await driftBehindTheServicesBack(service);

  const found = await reconcile(service.orm, service.spicedb, { fix: false });
  t.deepEqual(found, { missing: [lost], extra: [stray, orphan] });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), found, 'without --fix nothing changes');

  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
  const holds = async (permission: string, relationship: Relationship) =>
    (await service.spicedb.checkPermission({ resource: relationship.resource, permission, subject: relationship.subject }, { kind: 'fully_consistent' }))
      .allowed;
  t.true(await holds('view', lost), 'the member is back');
  t.false(await holds('invite', stray), 'the stray admin is gone');
});

test.serial('reconcile compares registered resources too: a lost parent tuple, a tuple with no record, and a poisoned id', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const registered = await service.send(
    'PUT',
    '/api/v1/authz/resources/chatbot/bot_registered',
    { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: onBehalfOf(tenant.owner) },
    bearer(key),
  );
  t.is(registered.status, 201);
  const parentOf = (id: string, workspaceId: string): Relationship => ({
    resource: { type: 'chatbot', id },
    relation: 'workspace',
    subject: { type: 'workspace', id: workspaceId },
  });
  const lost = parentOf('bot_registered', tenant.workspaceId);
  const unrecorded = parentOf('bot_unrecorded', tenant.workspaceId);
  const poisoned = parentOf('bot_poisoned', 'not-a-uuid');
  await service.spicedb.writeRelationships([
    { operation: 'delete', relationship: lost },
    { operation: 'touch', relationship: unrecorded },
    { operation: 'touch', relationship: poisoned },
  ]);

  const found = await reconcile(service.orm, service.spicedb, { fix: false });
  t.deepEqual(found.missing, [lost]);
  t.deepEqual(found.extra.map(tupleKey).sort(), [unrecorded, poisoned].map(tupleKey).sort());
  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
});

test.serial('reconcile compares direct grants too: a lost grant comes back, a stray one on a recorded resource and one on a resource with no record go', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const resourcePath = '/api/v1/authz/resources/chatbot/bot_shared';
  const forOwner = onBehalfOf(tenant.owner);
  t.is((await service.send('PUT', resourcePath, { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: forOwner }, bearer(key))).status, 201);
  const grant = { subject: { type: 'user', id: tenant.member.id }, role: 'viewer', on_behalf_of: forOwner };
  t.is((await service.send('POST', `${resourcePath}/grants`, grant, bearer(key))).status, 201);
  const grantOf = (id: string, relation: string, userId: string): Relationship => ({
    resource: { type: 'chatbot', id },
    relation,
    subject: { type: 'user', id: userId },
  });
  const lost = grantOf('bot_shared', 'viewer', tenant.member.id);
  const stray = grantOf('bot_shared', 'editor', tenant.stranger.id);
  const unrecorded = grantOf('bot_never_registered', 'viewer', tenant.stranger.id);
  await service.spicedb.writeRelationships([
    { operation: 'delete', relationship: lost },
    { operation: 'touch', relationship: stray },
    { operation: 'touch', relationship: unrecorded },
  ]);

  const found = await reconcile(service.orm, service.spicedb, { fix: false });
  t.deepEqual(found.missing, [lost]);
  t.deepEqual(found.extra.map(tupleKey).sort(), [stray, unrecorded].map(tupleKey).sort());
  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
});

test.serial('reconcile keeps expiries: a lost expiring grant comes back with its expiry, one rewritten without it is drift, and an expired one is none', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const resourcePath = '/api/v1/authz/resources/chatbot/bot_expiring';
  const forOwner = onBehalfOf(tenant.owner);
  t.is((await service.send('PUT', resourcePath, { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: forOwner }, bearer(key))).status, 201);
  const [inAnHour, soon] = [new Date(Date.now() + 60 * 60 * 1000), new Date(Date.now() + 2_000)];
  const grants: Array<[string, Date]> = [[tenant.member.id, inAnHour], [tenant.admin.id, inAnHour], [tenant.stranger.id, soon]];
  for (const [userId, expiresAt] of grants) {
    const body = { subject: { type: 'user', id: userId }, role: 'viewer', expires_at: expiresAt.toISOString(), on_behalf_of: forOwner };
    t.is((await service.send('POST', `${resourcePath}/grants`, body, bearer(key))).status, 201);
  }
  const grantOf = (userId: string, expiresAt?: Date): Relationship => ({
    resource: { type: 'chatbot', id: 'bot_expiring' },
    relation: 'viewer',
    subject: { type: 'user', id: userId },
    ...(expiresAt && { expiresAt }),
  });
  await service.spicedb.writeRelationships([
    { operation: 'delete', relationship: grantOf(tenant.member.id) },
    { operation: 'touch', relationship: grantOf(tenant.admin.id) },
  ]);
  await new Promise((resolve) => setTimeout(resolve, soon.getTime() - Date.now() + 500));

  const found = await reconcile(service.orm, service.spicedb, { fix: false });
  const inKeyOrder = (tuples: Relationship[]) => [...tuples].sort((a, b) => tupleKey(a).localeCompare(tupleKey(b)));
  t.deepEqual(inKeyOrder(found.missing), inKeyOrder([grantOf(tenant.member.id, inAnHour), grantOf(tenant.admin.id, inAnHour)]));
  t.deepEqual(found.extra, []);
  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
  const tuples = await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: 'bot_expiring', relation: 'viewer' });
  t.deepEqual(tuples.map((tuple) => tuple.expiresAt?.toISOString()), [inAnHour.toISOString(), inAnHour.toISOString()]);
});

const withServer = canRunSpiceDbServer ? test.serial : test.skip;

withServer('npm run reconcile prints the drift and exits 1; with --fix it repairs it', async (t) => {
  const spicedb = await startSpiceDbServer();
  t.teardown(() => spicedb.stop());
  const environment = {
    SPICEDB_ENDPOINT: spicedb.endpoint,
    SPICEDB_PRESHARED_KEY: spicedb.presharedKey,
    SPICEDB_INSECURE: 'true',
  };
  const service = await startTestService({ environment });
  t.teardown(() => service.stop());
  const { stray, lost } = await driftBehindTheServicesBack(service);

  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli/main.ts', 'reconcile', ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, ...environment },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  const report = await run();
  t.is(report.code, 1);
  t.true(report.stdout.includes(`missing organization:${lost.resource.id}#member@user:${lost.subject.id}`));
  t.true(report.stdout.includes(`extra   organization:${stray.resource.id}#admin@user:${stray.subject.id}`));

  t.is((await run('--fix')).code, 0);
  const after = await run();
  t.is(after.code, 0);
  t.regex(after.stdout, /no drift/);
});

test.serial('reconcile knows team tuples: nested teams are no drift, a lost membership and a stray one are, and --fix repairs both', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const [outer, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, outer, { teamId: inner }));
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });

  const lost: Relationship = { resource: { type: 'team', id: outer }, relation: 'member', subject: { type: 'team', id: inner, relation: 'member' } };
  const stray: Relationship = { resource: { type: 'team', id: inner }, relation: 'member', subject: { type: 'user', id: tenant.stranger.id } };
  await service.spicedb.writeRelationships([
    { operation: 'delete', relationship: lost },
    { operation: 'touch', relationship: stray },
  ]);
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: true }), { missing: [lost], extra: [stray] });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
});

test.serial('reconcile does not count expiring or expired memberships as drift, but does a tuple whose expiry was lost', async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const soon = new Date(Date.now() + 3_000);
  const later = new Date(Date.now() + 3_600_000);
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: tenant.member.id }, 'viewer', soon));
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: tenant.admin.id }, 'editor', later));
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
  await new Promise((resolve) => setTimeout(resolve, soon.getTime() - Date.now() + 1_000));
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] }, 'expired: gone from both');

  const expiring: Relationship = {
    resource: { type: 'workspace', id: tenant.workspaceId },
    relation: 'editor',
    subject: { type: 'user', id: tenant.admin.id },
    expiresAt: later,
  };
  const { expiresAt: _lost, ...forever } = expiring;
  await service.spicedb.writeRelationships([{ operation: 'touch', relationship: forever }]);
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: true }), { missing: [expiring], extra: [] });
  t.deepEqual(
    await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: tenant.workspaceId, relation: 'editor' }),
    [expiring],
  );
});

test.serial("reconcile removes the tuples of a team whose organization Postgres does not have", async (t) => {
  const service = await startTestService({ environment: PRIVATE_EMBEDDED_SPICEDB });
  t.teardown(() => service.stop());
  const team = { type: 'team', id: '00000000-0000-4000-8000-0000000000aa' };
  const orphans: Relationship[] = [
    { resource: team, relation: 'organization', subject: { type: 'organization', id: '00000000-0000-4000-8000-0000000000bb' } },
    { resource: team, relation: 'member', subject: { type: 'user', id: 'someone' } },
  ];
  await service.spicedb.writeRelationships(orphans.map((relationship) => ({ operation: 'touch', relationship })));
  const found = await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(found.extra.map(tupleKey).sort(), orphans.map(tupleKey).sort());
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'team' }), []);
});
