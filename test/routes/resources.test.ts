import test from 'ava';
import { Resource, ResourceGrant } from '../../src/db/entities/index.ts';
import {
  as,
  bearer,
  joinByConsent,
  makeServiceAccount,
  makeUser,
  makeWorkspaceTenant,
  onBehalfOf,
  signUp,
  type SignedUpUser,
  type WorkspaceTenant,
} from '../support/factories.ts';
import { allowed, userMay } from '../support/checks.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

/**
 * Resources other services own, registered through PUT /authz/resources/{type}/{id}: recorded in
 * Postgres, exactly one parent workspace, and written on behalf of the user who clicked.
 */

let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(async () => {
  await service?.stop();
});

const ROLES = ['owner', 'admin', 'workspaceAdmin', 'editor', 'viewer', 'member', 'stranger'] as const;
type Role = (typeof ROLES)[number];

const resourcePath = (id: string) => `/api/v1/authz/resources/chatbot/${id}`;

function put(key: string, id: string, body: unknown, on: TestService = service) {
  return on.send('PUT', resourcePath(id), body, bearer(key));
}

async function parentsOf(id: string, on: TestService = service): Promise<string[]> {
  const tuples = await on.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: id });
  return tuples.map((tuple) => `${tuple.relation}@${tuple.subject.type}:${tuple.subject.id}`);
}

const can = (permission: string, id: string, user: { id: string }, on: TestService = service) =>
  allowed(on, userMay(permission, { type: 'chatbot', id }, user));

/** A bot id of its own for each test and role. */
function botId(tenant: { organizationId: string }, label: string): string {
  return `bot_${tenant.organizationId.slice(0, 8)}_${label}`;
}

test('a resource registered on behalf of a user answers 201 with its record and a ZedToken, then 200 when registered again', async (t) => {
  const owner = await signUp(service);
  const { key, account } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(owner, 'first');
  const created = await put(key, id, { parent: { type: 'workspace', id: owner.workspaceId }, on_behalf_of: onBehalfOf(owner) });
  t.is(created.status, 201);
  t.truthy(created.headers.get('zedtoken'));
  t.like(await created.json(), {
    type: 'chatbot',
    id,
    parent: { type: 'workspace', id: owner.workspaceId },
    organization_id: owner.organizationId,
    registered_by: { service_account_id: account.id, on_behalf_of: { type: 'user', id: owner.id } },
  });
  const again = await put(key, id, { parent: { type: 'workspace', id: owner.workspaceId }, on_behalf_of: onBehalfOf(owner) });
  t.is(again.status, 200);
  const read = await service.request(resourcePath(id), { headers: bearer(key) });
  t.like(await read.json(), { parent: { id: owner.workspaceId } });
  t.true(await can('chatbot:delete', id, owner));
});

test('registering under a workspace that does not exist answers 422 naming parent.id, and records nothing', async (t) => {
  const owner = await signUp(service);
  const { key } = await makeServiceAccount(service);
  const id = botId(owner, 'orphan');
  const response = await put(key, id, { parent: { type: 'workspace', id: '00000000-0000-4000-8000-00000000dead' }, on_behalf_of: onBehalfOf(owner) });
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.parent.id' }] });
  t.is(await service.orm.em.fork().count(Resource, { type: 'chatbot', id }), 0);
  t.deepEqual(await parentsOf(id), []);
});

test('an untrusted account must name the user it acts for (403), and a trusted one may not register a tenant type', async (t) => {
  const owner = await signUp(service);
  const untrusted = await makeServiceAccount(service, ['chatbot']);
  const refused = await put(untrusted.key, botId(owner, 'nobody'), { parent: { type: 'workspace', id: owner.workspaceId } });
  t.is(refused.status, 403);
  const trusted = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const workspace = await service.send(
    'PUT',
    `/api/v1/authz/resources/workspace/${owner.workspaceId}`,
    { parent: { type: 'workspace', id: owner.workspaceId } },
    bearer(trusted.key),
  );
  t.is(workspace.status, 422);
  t.like(await workspace.json(), { errors: [{ field: 'params.type' }] });
});

test("a chatbot of one tenant cannot be moved into another: refused for the other tenant's owner and for an untrusted account; a trusted move leaves exactly one parent", async (t) => {
  const [first, second] = [await signUp(service), await signUp(service)];
  const untrusted = await makeServiceAccount(service, ['chatbot']);
  const id = botId(first, 'contested');
  await put(untrusted.key, id, { parent: { type: 'workspace', id: first.workspaceId }, on_behalf_of: onBehalfOf(first) });

  const hijack = await put(untrusted.key, id, { parent: { type: 'workspace', id: second.workspaceId }, on_behalf_of: onBehalfOf(second) });
  t.is(hijack.status, 403, "the second tenant's owner has no chatbot:move on it");
  const blind = await put(untrusted.key, id, { parent: { type: 'workspace', id: second.workspaceId } });
  t.is(blind.status, 403);
  t.deepEqual(await parentsOf(id), [`workspace@workspace:${first.workspaceId}`]);
  t.true(await can('chatbot:delete', id, first));
  t.false(await can('chatbot:delete', id, second));

  const trusted = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const moved = await put(trusted.key, id, { parent: { type: 'workspace', id: second.workspaceId } });
  t.is(moved.status, 200);
  t.deepEqual(await parentsOf(id), [`workspace@workspace:${second.workspaceId}`], 'one parent: the new one');
  t.false(await can('chatbot:delete', id, first));
  t.true(await can('chatbot:delete', id, second));
});

test('the relationship-shaped endpoint goes through the same record: it moves, never adds a second parent', async (t) => {
  const [first, second] = [await signUp(service), await signUp(service)];
  // A move between two tenants that no one user belongs to both of: a trusted account's.
  const { key } = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const id = botId(first, 'legacy');
  const register = (workspaceId: string) =>
    service.send(
      'POST',
      '/api/v1/authz/relationships',
      { relationships: [{ resource: { type: 'chatbot', id }, relation: 'workspace', subject: { type: 'workspace', id: workspaceId } }] },
      bearer(key),
    );
  t.is((await register(first.workspaceId)).status, 200);
  t.is((await register(second.workspaceId)).status, 200);
  t.deepEqual(await parentsOf(id), [`workspace@workspace:${second.workspaceId}`]);
  const record = await service.orm.em.fork().findOneOrFail(Resource, { type: 'chatbot', id });
  t.is(record.workspaceId, second.workspaceId);
});

test('deleting a workspace removes the resources registered under it', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const id = botId(tenant, 'doomed');
  t.is((await put(key, id, { parent: { type: 'workspace', id: tenant.spaceId }, on_behalf_of: onBehalfOf(tenant.workspaceAdmin) })).status, 201);
  t.deepEqual(await parentsOf(id), [`workspace@workspace:${tenant.spaceId}`]);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/workspaces/${tenant.spaceId}`)).status, 204);
  t.is((await service.request(resourcePath(id), { headers: bearer(key) })).status, 404);
  t.deepEqual(await parentsOf(id), []);
});

test('DELETE on behalf of a user removes the record and every tuple; a missing resource is refused like a forbidden one', async (t) => {
  const owner = await signUp(service);
  const stranger = await signUp(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(owner, 'removed');
  await put(key, id, { parent: { type: 'workspace', id: owner.workspaceId }, on_behalf_of: onBehalfOf(owner) });
  const remove = (bot: string, user: SignedUpUser) =>
    service.send('DELETE', `${resourcePath(bot)}?on_behalf_of=user:${user.id}`, undefined, bearer(key));

  const hidden = await remove(id, stranger);
  const missing = await remove(botId(owner, 'never-registered'), stranger);
  t.is(hidden.status, 403);
  const detail = (body: unknown) => (body as { detail: string }).detail;
  t.is(detail(await hidden.json()), detail(await missing.json()));
  t.deepEqual(await parentsOf(id), [`workspace@workspace:${owner.workspaceId}`]);

  const removed = await remove(id, owner);
  t.is(removed.status, 204);
  t.truthy(removed.headers.get('zedtoken'));
  t.deepEqual(await parentsOf(id), []);
  t.is(await service.orm.em.fork().count(Resource, { type: 'chatbot', id }), 0);
});

/** The tenant's space, a second workspace, and each workspace role holding the same role in both. */
async function tenantWithTwoSpaces(): Promise<{ tenant: WorkspaceTenant; otherSpaceId: string }> {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const created = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/workspaces`, { name: 'Other' });
  const otherSpaceId = ((await created.json()) as { id: string }).id;
  for (const [user, role] of [[tenant.workspaceAdmin, 'admin'], [tenant.editor, 'editor'], [tenant.viewer, 'viewer']] as const) {
    await as(service, tenant.owner).send('POST', `/api/v1/workspaces/${otherSpaceId}/members`, { user_id: user.id, role });
  }
  return { tenant, otherSpaceId };
}

const REGISTER: Partial<Record<Role, true>> = { owner: true, admin: true, workspaceAdmin: true, editor: true };
// Moving it away takes what deleting it takes: a workspace editor may add a chatbot, not take one.
const MOVE: Partial<Record<Role, true>> = { owner: true, admin: true, workspaceAdmin: true };
const DELETE = MOVE;

test('role matrix, on behalf of each role: register, move and delete', async (t) => {
  const { tenant, otherSpaceId } = await tenantWithTwoSpaces();
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const backfill = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  for (const role of ROLES) {
    const actor = tenant[role];

    const fresh = botId(tenant, `register_${role}`);
    const registered = await put(key, fresh, { parent: { type: 'workspace', id: tenant.spaceId }, on_behalf_of: onBehalfOf(actor) });
    t.is(registered.status, REGISTER[role] ? 201 : 403, `${role} registers`);
    t.deepEqual(await parentsOf(fresh), REGISTER[role] ? [`workspace@workspace:${tenant.spaceId}`] : [], `${role} registers`);

    const moving = botId(tenant, `move_${role}`);
    await put(backfill.key, moving, { parent: { type: 'workspace', id: tenant.spaceId } });
    const moved = await put(key, moving, { parent: { type: 'workspace', id: otherSpaceId }, on_behalf_of: onBehalfOf(actor) });
    t.is(moved.status, MOVE[role] ? 200 : 403, `${role} moves`);
    t.deepEqual(await parentsOf(moving), [`workspace@workspace:${MOVE[role] ? otherSpaceId : tenant.spaceId}`], `${role} moves`);

    const doomed = botId(tenant, `delete_${role}`);
    await put(backfill.key, doomed, { parent: { type: 'workspace', id: tenant.spaceId } });
    const deleted = await service.send('DELETE', `${resourcePath(doomed)}?on_behalf_of=user:${actor.id}`, undefined, bearer(key));
    t.is(deleted.status, DELETE[role] ? 204 : 403, `${role} deletes`);
    t.deepEqual(await parentsOf(doomed), DELETE[role] ? [] : [`workspace@workspace:${tenant.spaceId}`], `${role} deletes`);
  }
});

/** What Postgres and SpiceDB hold about one chatbot: its record, its grants, and its tuples. */
async function resourceState(id: string) {
  const em = service.orm.em.fork();
  const record = await em.findOne(Resource, { type: 'chatbot', id });
  const grants = await em.find(ResourceGrant, { resourceType: 'chatbot', resourceId: id }, { orderBy: { id: 'asc' } });
  const tuples = await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: id });
  return {
    record: record && { workspaceId: record.workspaceId, organizationId: record.organizationId, onBehalfOf: record.onBehalfOf },
    grants: grants.map((grant) => `${grant.role}@${grant.subjectType}:${grant.subjectId}`),
    tuples: tuples.map((tuple) => `${tuple.relation}@${tuple.subject.type}:${tuple.subject.id}`).sort(),
  };
}

test('a direct grant never lets its holder take a resource away: an outside editor grantee, a workspace editor and a removed member who kept an editor grant get 403 and change nothing; the owner and an admin still move it', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const outsider = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const backfill = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const id = botId(tenant, 'coveted');
  await put(backfill.key, id, { parent: { type: 'workspace', id: tenant.spaceId } });
  for (const grantee of [outsider, tenant.member]) {
    const shared = await service.send('POST', `${resourcePath(id)}/grants`, { subject: onBehalfOf(grantee), role: 'editor' }, bearer(backfill.key));
    t.is(shared.status, 201);
  }
  // The member leaves the organization; the grant is to the resource, so it stays (docs/authorization-api.md, "Sharing one resource").
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`)).status, 204);
  t.true(await can('chatbot:edit', id, tenant.member));
  const before = await resourceState(id);

  // Each takes it into a workspace of their own organization, where they hold workspace:edit.
  for (const [who, user] of [['outside editor grantee', outsider], ['workspace editor', tenant.editor], ['removed member', tenant.member]] as const) {
    const taken = await put(key, id, { parent: { type: 'workspace', id: user.workspaceId }, on_behalf_of: onBehalfOf(user) });
    t.is(taken.status, 403, who);
    t.is(taken.headers.get('content-type'), 'application/problem+json', who);
    t.false(await can('chatbot:move', id, user), who);
    t.deepEqual(await resourceState(id), before, `${who}: nothing changed`);
  }
  t.true(await can('chatbot:delete', id, tenant.owner));

  const moveAs = (user: SignedUpUser, workspaceId: string) =>
    put(key, id, { parent: { type: 'workspace', id: workspaceId }, on_behalf_of: onBehalfOf(user) });
  t.is((await moveAs(tenant.owner, tenant.workspaceId)).status, 200, 'the owner moves it');
  t.like(await resourceState(id), { record: { workspaceId: tenant.workspaceId }, grants: before.grants });
  t.is((await moveAs(tenant.admin, tenant.spaceId)).status, 200, 'an admin moves it back');
  t.deepEqual(await resourceState(id), { ...before, record: { ...before.record, onBehalfOf: tenant.admin.id } });
});

test('an account scoped to one organization is refused outside it on checks, bulk checks, lookups and registrations', async (t) => {
  const [inside, outside] = [await signUp(service), await signUp(service)];
  const backfill = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const [ownBot, otherBot] = [botId(inside, 'own'), botId(outside, 'other')];
  await put(backfill.key, ownBot, { parent: { type: 'workspace', id: inside.workspaceId } });
  await put(backfill.key, otherBot, { parent: { type: 'workspace', id: outside.workspaceId } });
  const { key } = await makeServiceAccount(service, ['chatbot'], { trusted: true, organizationIds: [inside.organizationId] });
  const post = (path: string, body: unknown) => service.send('POST', `/api/v1/authz/${path}`, body, bearer(key));
  const check = (id: string, user: SignedUpUser) => ({ resource: { type: 'chatbot', id }, permission: 'view', subject: { type: 'user', id: user.id } });

  t.is((await post('check', check(ownBot, inside))).status, 200);
  t.is((await post('check', check(otherBot, outside))).status, 403);
  t.is((await post('check', { ...check(otherBot, outside), resource: { type: 'organization', id: outside.organizationId } })).status, 403);
  t.is((await post('check-bulk', { items: [check(ownBot, inside), check(otherBot, outside)] })).status, 403);
  t.is((await post('lookup-subjects', { resource: { type: 'chatbot', id: otherBot }, permission: 'view', subject_type: 'user' })).status, 403);
  t.is((await put(key, botId(outside, 'planted'), { parent: { type: 'workspace', id: outside.workspaceId } })).status, 403);
  t.is((await put(key, otherBot, { parent: { type: 'workspace', id: inside.workspaceId } })).status, 403, 'nor pull one in');
  t.is((await service.request(resourcePath(otherBot), { headers: bearer(key) })).status, 404);
  t.is((await service.request(resourcePath(ownBot), { headers: bearer(key) })).status, 200);

  // An admin of both organizations: the scoped account sees only the inside one's chatbot.
  const both = await signUp(service);
  for (const owner of [inside, outside]) {
    await joinByConsent(service, owner, owner.organizationId, both, 'admin');
  }
  const looked = await post('lookup-resources', { resource_type: 'chatbot', permission: 'view', subject: { type: 'user', id: both.id } });
  t.deepEqual(((await looked.json()) as { resource_ids: string[] }).resource_ids, [ownBot]);
});

test('a registration survives a restart with an embedded SpiceDB, and the owner is still allowed', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const environment = { SPICEDB_ENDPOINT: '' };
  const first = await startTestService({ database, environment });
  const owner = await signUp(first);
  const { key } = await makeServiceAccount(first, ['chatbot']);
  const id = botId(owner, 'durable');
  t.is((await put(key, id, { parent: { type: 'workspace', id: owner.workspaceId }, on_behalf_of: onBehalfOf(owner) }, first)).status, 201);
  await first.stop();

  const second = await startTestService({ database, environment });
  t.teardown(() => second.stop());
  t.true(await can('chatbot:delete', id, owner, second));
  t.deepEqual(await parentsOf(id, second), [`workspace@workspace:${owner.workspaceId}`]);
});
