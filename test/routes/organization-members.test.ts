import test from 'ava';
import { OrganizationMembership, User, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, makeTenant, makeUser } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const members = (organizationId: string) => `/api/v1/orgs/${organizationId}/members`;

async function tuplesOf(organizationId: string, userId: string): Promise<string[]> {
  const tuples = await service.spicedb.readRelationships({
    resourceType: 'organization',
    resourceId: organizationId,
    subject: { type: 'user', id: userId },
  });
  return tuples.map((tuple) => tuple.relation);
}

test('adding an unknown user answers 404; an existing member 409; the owner role 422', async (t) => {
  const tenant = await makeTenant(service);
  const add = (body: unknown) => as(service, tenant.owner).send('POST', members(tenant.organizationId), body);
  t.is((await add({ user_id: '00000000-0000-4000-8000-000000000000', role: 'member' })).status, 404);
  t.is((await add({ user_id: tenant.member.id, role: 'admin' })).status, 409);
  t.is((await add({ user_id: tenant.stranger.id, role: 'owner' })).status, 422);
  t.is((await add({ user_id: 'nope', role: 'member' })).status, 422);
  t.is((await add({ user_id: tenant.stranger.id, role: 'member', is_owner: true })).status, 422);
});

test('the same add-member request sent twice at once gives one 200, one 409, one row and one tuple', async (t) => {
  const [owner, invitee] = [await makeUser(service), await makeUser(service)];
  const statuses = await Promise.all(
    [1, 2].map(async () => (await as(service, owner).send('POST', members(owner.organizationId), { user_id: invitee.id, role: 'member' })).status),
  );
  t.deepEqual(statuses.sort(), [200, 409]);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: owner.organizationId, user: invitee.id }), 1);
  t.deepEqual(await tuplesOf(owner.organizationId, invitee.id), ['member']);
});

test('the member list carries each member’s username and email, and pages like the organization list', async (t) => {
  const tenant = await makeTenant(service);
  const first = await as(service, tenant.member).get(`${members(tenant.organizationId)}?limit=2`);
  t.is(first.status, 200);
  const page = (await first.json()) as Array<{ user_id: string; username: string; email: string; role: string }>;
  t.deepEqual(page.map((member) => [member.username, member.email, member.role]), [
    [tenant.owner.username, tenant.owner.email, 'owner'],
    [tenant.admin.username, tenant.admin.email, 'admin'],
  ]);
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
  const rest = (await (await as(service, tenant.member).get(next)).json()) as Array<{ user_id: string }>;
  t.deepEqual(rest.map((member) => member.user_id), [tenant.member.id]);
});

test("changing a member's role answers the new role and moves the tuple in SpiceDB", async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('PATCH', `${members(tenant.organizationId)}/${tenant.member.id}`, { role: 'admin' });
  t.is(response.status, 200);
  t.like(await response.json(), { user_id: tenant.member.id, role: 'admin' });
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.member.id), ['admin']);
});

test('an admin demoted to member loses admin permissions on the very next request', async (t) => {
  const tenant = await makeTenant(service);
  await as(service, tenant.owner).send('PATCH', `${members(tenant.organizationId)}/${tenant.admin.id}`, { role: 'member' });
  const invite = await as(service, tenant.admin).send('POST', members(tenant.organizationId), { user_id: tenant.stranger.id, role: 'member' });
  t.is(invite.status, 403);
  t.is((await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 403);
  t.is((await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200, 'still a member');
});

test("the owner's role cannot change (400); a non-member's role answers 404", async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.admin).send('PATCH', `${members(tenant.organizationId)}/${tenant.owner.id}`, { role: 'member' })).status, 400);
  t.is((await as(service, tenant.owner).send('PATCH', `${members(tenant.organizationId)}/${tenant.stranger.id}`, { role: 'admin' })).status, 404);
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.owner.id), ['owner']);
});

test('removing a member also removes their workspace memberships, rows and tuples', async (t) => {
  const tenant = await makeTenant(service);
  const em = service.orm.em.fork();
  await em.transactional(async (tx) => {
    const ids = await service.outbox.enqueueGrants(
      tx,
      [{ resource: { type: 'workspace', id: tenant.workspaceId }, relation: 'viewer', subject: { type: 'user', id: tenant.member.id } }],
      tenant.organizationId,
    );
    tx.persist(new WorkspaceMembership(tx.getReference(Workspace, tenant.workspaceId), tx.getReference(User, tenant.member.id), 'viewer'));
    return ids;
  }).then((ids) => service.relay.deliver(ids, tenant.organizationId));

  const response = await as(service, tenant.admin).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`);
  t.is(response.status, 204);
  t.is(await em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: tenant.member.id }), 0);
  t.is(await em.fork().count(WorkspaceMembership, { workspace: tenant.workspaceId, user: tenant.member.id }), 0);
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.member.id), []);
  const workspaceTuples = await service.spicedb.readRelationships({
    resourceType: 'workspace',
    resourceId: tenant.workspaceId,
    subject: { type: 'user', id: tenant.member.id },
  });
  t.deepEqual(workspaceTuples, []);
});

test('a removed member replaying their unexpired access token is refused on the next request', async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200);
  await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`);
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 403);
  t.is((await as(service, tenant.member).get(members(tenant.organizationId))).status, 403);
});

test('any member may leave; the owner cannot be removed (400); a non-member answers 404', async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.member).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`)).status, 204);
  t.is((await as(service, tenant.admin).send('DELETE', `${members(tenant.organizationId)}/${tenant.owner.id}`)).status, 400);
  t.is((await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.owner.id}`)).status, 400);
  t.is((await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.stranger.id}`)).status, 404);
  t.is((await as(service, tenant.stranger).send('DELETE', `${members(tenant.organizationId)}/${tenant.stranger.id}`)).status, 403, 'a stranger learns nothing');
});

test('concurrent transfers, demotions and removals leave exactly one owner, in Postgres and in SpiceDB', async (t) => {
  const tenant = await makeTenant(service);
  const organization = `/api/v1/orgs/${tenant.organizationId}`;
  await Promise.all([
    as(service, tenant.owner).send('POST', `${organization}/transfer-ownership`, { user_id: tenant.admin.id }),
    as(service, tenant.owner).send('POST', `${organization}/transfer-ownership`, { user_id: tenant.member.id }),
    as(service, tenant.admin).send('PATCH', `${organization}/members/${tenant.owner.id}`, { role: 'member' }),
    as(service, tenant.admin).send('PATCH', `${organization}/members/${tenant.member.id}`, { role: 'admin' }),
    as(service, tenant.owner).send('DELETE', `${organization}/members/${tenant.admin.id}`),
    as(service, tenant.admin).send('DELETE', `${organization}/members/${tenant.owner.id}`),
  ]);
  const owners = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId, role: 'owner' });
  t.is(owners.length, 1);
  const ownerTuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, relation: 'owner' });
  t.deepEqual(ownerTuples.map((tuple) => tuple.subject.id), owners.map((owner) => owner.user.id));

  const recorded = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId });
  const granted = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId });
  t.deepEqual(
    granted.map((tuple) => `${tuple.subject.id}:${tuple.relation}`).sort(),
    recorded.map((membership) => `${membership.user.id}:${membership.role}`).sort(),
    'SpiceDB matches Postgres',
  );
});
