import test from 'ava';
import { reconcile } from '../../src/authz/reconcile.ts';
import { OrganizationMembership, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';
import type { CheckBody } from '../support/responses.ts';

/**
 * `1A93…` and `1a93…` are one UUID to Postgres and two objects to SpiceDB. Every UUID is made
 * lower-case before it reaches either, in paths and in bodies, and answers echo that form.
 */

// Reconcile reads every tuple of its SpiceDB, so this file's service has one of its own and its
// tests run one at a time.
const service = useTestService(test, { environment: { SPICEDB_ENDPOINT: '' } });

test.serial('members added and removed by upper-case UUIDs are stored, granted and revoked under the canonical id', async (t) => {
  // The member gets the default workspace only through the request below.
  const tenant = await makeTenant(service, { defaultWorkspaceRole: 'none' });
  const owner = as(service, tenant.owner);
  const workspace = tenant.workspaceId.toUpperCase();
  const member = tenant.member.id.toUpperCase();

  const added = await owner.send('POST', `/api/v1/workspaces/${workspace}/members`, { user_id: member, role: 'editor' });
  t.is(added.status, 200);
  t.like(await added.json(), { workspace_id: tenant.workspaceId, user_id: tenant.member.id });
  t.is((await as(service, tenant.member).get(`/api/v1/workspaces/${tenant.workspaceId}`)).status, 200, 'the member is let in');
  const row = await service.orm.em.fork().findOneOrFail(WorkspaceMembership, { workspace: tenant.workspaceId, user: tenant.member.id });
  t.is(row.role, 'editor');

  t.is((await owner.send('PATCH', `/api/v1/orgs/${tenant.organizationId.toUpperCase()}/members/${member}`, { role: 'admin' })).status, 200);
  t.is((await service.orm.em.fork().findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: tenant.member.id })).role, 'admin');

  t.is((await owner.send('DELETE', `/api/v1/workspaces/${workspace}/members/${member}`)).status, 204);
  t.is((await owner.send('DELETE', `/api/v1/orgs/${tenant.organizationId.toUpperCase()}/members/${member}`)).status, 204);
  t.is((await as(service, tenant.member).get(`/api/v1/workspaces/${tenant.workspaceId}`)).status, 403, 'and let out again');
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] }, 'no tuple is left behind');
});

test.serial('the authorization API reads an upper-case UUID as its canonical form', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const response = await service.send(
    'POST',
    '/api/v1/authz/check',
    {
      resource: { type: 'organization', id: tenant.organizationId.toUpperCase() },
      permission: 'org:invite',
      subject: { type: 'user', id: tenant.admin.id.toUpperCase() },
    },
    bearer(key),
  );
  t.true(((await response.json()) as CheckBody).allowed);
});

test.serial('reconcile reports tuples whose ids Postgres cannot hold as drift, and --fix removes them', async (t) => {
  const tenant = await makeTenant(service);
  const strays = [
    { resource: { type: 'organization', id: 'acme' }, relation: 'owner', subject: { type: 'user', id: tenant.stranger.id } },
    { resource: { type: 'organization', id: tenant.organizationId.toUpperCase() }, relation: 'admin', subject: { type: 'user', id: tenant.stranger.id } },
    { resource: { type: 'workspace', id: tenant.workspaceId }, relation: 'editor', subject: { type: 'user', id: tenant.stranger.id.toUpperCase() } },
    { resource: { type: 'chatbot', id: 'bot_of_nowhere' }, relation: 'workspace', subject: { type: 'workspace', id: 'not-a-uuid' } },
  ];
  await service.spicedb.writeRelationships(strays.map((relationship) => ({ operation: 'touch', relationship })));

  const found = await reconcile(service.orm, service.spicedb, { fix: false });
  t.deepEqual(found.missing, []);
  t.deepEqual(
    found.extra.map((tuple) => `${tuple.resource.type}:${tuple.resource.id}`).sort(),
    strays.map((tuple) => `${tuple.resource.type}:${tuple.resource.id}`).sort(),
  );
  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(await reconcile(service.orm, service.spicedb, { fix: false }), { missing: [], extra: [] });
});
