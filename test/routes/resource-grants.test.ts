import test from 'ava';
import { Resource, ResourceGrant } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTeam, makeUser, makeWorkspaceTenant, onBehalfOf, type SignedUpUser } from '../support/factories.ts';
import { allowed, userMay } from '../support/checks.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Sharing one resource: POST, GET and DELETE /authz/resources/{type}/{id}/grants. A grant is a
 * resource_grants row and a `viewer`/`editor` tuple; the user a service acts for needs
 * `<type>:share` (the workspace's editors and admins, and the organization's owner and admins).
 */

const service = useTestService(test);

const ROLES = ['owner', 'admin', 'workspaceAdmin', 'editor', 'viewer', 'member', 'stranger'] as const;
type Role = (typeof ROLES)[number];
const SHARE: Partial<Record<Role, true>> = { owner: true, admin: true, workspaceAdmin: true, editor: true };

const resourcePath = (id: string, type = 'chatbot') => `/api/v1/authz/resources/${type}/${id}`;
const grantsPath = (id: string, type = 'chatbot') => `${resourcePath(id, type)}/grants`;
const userSubject = (user: { id: string }) => ({ type: 'user', id: user.id });
const EVERYONE = { type: 'user', id: '*' };

/** A trusted account, as a backfill has: it registers and shares for no user. */
function makeBackfill(type = 'chatbot') {
  return makeServiceAccount(service, [type], { trusted: true });
}

/** A bot id of its own for each test. */
function botId(tenant: { organizationId: string }, label: string): string {
  return `bot_${tenant.organizationId.slice(0, 8)}_${label}`;
}

async function register(key: string, id: string, workspaceId: string, type = 'chatbot'): Promise<void> {
  const response = await service.send('PUT', resourcePath(id, type), { parent: { type: 'workspace', id: workspaceId } }, bearer(key));
  if (response.status !== 201) throw new Error(`registering answered ${response.status}`);
}

function share(key: string, id: string, body: Record<string, unknown>, type = 'chatbot') {
  return service.send('POST', grantsPath(id, type), body, bearer(key));
}

function unshare(key: string, id: string, body: Record<string, unknown>) {
  return service.send('DELETE', grantsPath(id), body, bearer(key));
}

const can = (permission: string, id: string, user: { id: string }, type = 'chatbot') => allowed(service, userMay(permission, { type, id }, user));

/** The grant tuples SpiceDB holds on the resource, as `role@type:id`. */
async function grantTuplesOf(id: string, type = 'chatbot'): Promise<string[]> {
  const tuples = await service.spicedb.readRelationships({ resourceType: type, resourceId: id });
  return tuples
    .filter((tuple) => tuple.relation !== 'workspace')
    .map((tuple) => `${tuple.relation}@${tuple.subject.type}:${tuple.subject.id}`)
    .sort();
}

async function grantRows(id: string): Promise<number> {
  return service.orm.em.fork().count(ResourceGrant, { resourceType: 'chatbot', resourceId: id });
}

async function listGrants(key: string, id: string): Promise<Array<{ subject: { id: string }; role: string }>> {
  const response = await service.request(grantsPath(id), { headers: bearer(key) });
  return (await response.json()) as Array<{ subject: { id: string }; role: string }>;
}

test('a workspace editor shares a chatbot: 201 with the grant and a ZedToken, the grantee can view it, the list shows it; revoking takes it away', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const { key, account } = await makeServiceAccount(service, ['chatbot']);
  const backfill = await makeBackfill();
  const id = botId(tenant, 'shared');
  await register(backfill.key, id, tenant.spaceId);
  t.false(await can('view', id, guest));

  const granted = await share(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  t.is(granted.status, 201);
  t.truthy(granted.headers.get('zedtoken'));
  t.like(await granted.json(), {
    subject: { type: 'user', id: guest.id },
    role: 'viewer',
    expires_at: null,
    granted_by: { service_account_id: account.id, on_behalf_of: { type: 'user', id: tenant.editor.id } },
  });
  t.true(await can('view', id, guest));
  t.false(await can('edit', id, guest));
  t.deepEqual(await grantTuplesOf(id), [`viewer@user:${guest.id}`]);
  t.like(await listGrants(key, id), [{ subject: { id: guest.id }, role: 'viewer' }]);

  const again = await share(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  t.is(again.status, 200, 'the same grant again replaces it');
  t.is(await grantRows(id), 1);

  const revoked = await unshare(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  t.is(revoked.status, 204);
  t.truthy(revoked.headers.get('zedtoken'));
  t.false(await can('view', id, guest));
  t.deepEqual(await grantTuplesOf(id), []);
  t.deepEqual(await listGrants(key, id), []);
  t.is((await unshare(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) })).status, 404);
});

test('an editor grant lets its holder edit, never share further or delete', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(tenant, 'edited');
  await register((await makeBackfill()).key, id, tenant.spaceId);
  const guest = await makeUser(service);
  t.is((await share(key, id, { subject: userSubject(guest), role: 'editor', on_behalf_of: onBehalfOf(tenant.owner) })).status, 201);
  t.true(await can('view', id, guest));
  t.true(await can('edit', id, guest));
  t.false(await can('share', id, guest));
  t.false(await can('delete', id, guest));
  const onward = await share(key, id, { subject: userSubject(tenant.stranger), role: 'viewer', on_behalf_of: onBehalfOf(guest) });
  t.is(onward.status, 403);
  t.deepEqual(await grantTuplesOf(id), [`editor@user:${guest.id}`]);
});

test('role matrix, on behalf of each role: who may grant and revoke; a refusal changes nothing', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const backfill = await makeBackfill();
  for (const role of ROLES) {
    const actor = tenant[role];
    const id = botId(tenant, `matrix_${role}`);
    await register(backfill.key, id, tenant.spaceId);

    const granted = await share(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(actor) });
    t.is(granted.status, SHARE[role] ? 201 : 403, `${role} grants`);
    t.deepEqual(await grantTuplesOf(id), SHARE[role] ? [`viewer@user:${guest.id}`] : [], `${role} grants`);
    t.is(await grantRows(id), SHARE[role] ? 1 : 0, `${role} grants`);

    // The revocation, of a grant a trusted account made where the role could not.
    if (!SHARE[role]) await share(backfill.key, id, { subject: userSubject(guest), role: 'viewer' });
    const revoked = await unshare(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(actor) });
    t.is(revoked.status, SHARE[role] ? 204 : 403, `${role} revokes`);
    t.deepEqual(await grantTuplesOf(id), SHARE[role] ? [] : [`viewer@user:${guest.id}`], `${role} revokes`);
    t.is(await grantRows(id), SHARE[role] ? 0 : 1, `${role} revokes`);
  }
});

test('a resource that is not registered is refused exactly like a hidden one (403), and a trusted account alone learns it is unknown (404)', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const backfill = await makeBackfill();
  const hiddenId = botId(tenant, 'hidden');
  await register(backfill.key, hiddenId, tenant.spaceId);
  const body = { subject: userSubject(tenant.stranger), role: 'viewer', on_behalf_of: onBehalfOf(tenant.stranger) };

  const hidden = await share(key, hiddenId, body);
  const missing = await share(key, botId(tenant, 'never-registered'), body);
  t.is(hidden.status, 403);
  t.is(missing.status, 403);
  const problem = async (response: Response) => {
    const { status, title, detail } = (await response.json()) as Record<string, unknown>;
    return { status, title, detail };
  };
  t.deepEqual(await problem(hidden), await problem(missing));
  t.deepEqual(await grantTuplesOf(hiddenId), []);

  const unknown = await share(backfill.key, botId(tenant, 'never-registered'), { subject: userSubject(tenant.member), role: 'viewer' });
  t.is(unknown.status, 404);
  t.is((await service.request(grantsPath(botId(tenant, 'never-registered')), { headers: bearer(key) })).status, 404);
});

test('the caller rules of resources: an untrusted account names a user, writes only its own types, and a scoped one stays in its organizations', async (t) => {
  const [inside, outside] = [await makeWorkspaceTenant(service, { plan: 'pro' }), await makeWorkspaceTenant(service, { plan: 'pro' })];
  const backfill = await makeBackfill();
  const [ownBot, otherBot] = [botId(inside, 'own'), botId(outside, 'other')];
  await register(backfill.key, ownBot, inside.spaceId);
  await register(backfill.key, otherBot, outside.spaceId);
  const guest = { subject: userSubject(inside.member), role: 'viewer' };

  const untrusted = await makeServiceAccount(service, ['chatbot']);
  t.is((await share(untrusted.key, ownBot, guest)).status, 403, 'an untrusted account must name the user it acts for');
  const knowledgeOnly = await makeServiceAccount(service, ['knowledge_base']);
  t.is((await share(knowledgeOnly.key, ownBot, { ...guest, on_behalf_of: onBehalfOf(inside.owner) })).status, 403, 'chatbots are not its type');
  const userToken = await as(service, inside.owner).send('POST', grantsPath(ownBot), { ...guest, on_behalf_of: onBehalfOf(inside.owner) });
  t.is(userToken.status, 403, "a user's own token does not share");

  const scoped = await makeServiceAccount(service, ['chatbot'], { trusted: true, organizationIds: [inside.organizationId] });
  t.is((await share(scoped.key, ownBot, guest)).status, 201);
  t.is((await share(scoped.key, otherBot, guest)).status, 404, 'outside its organizations, as unknown as a missing one');
  t.is((await unshare(scoped.key, otherBot, guest)).status, 404);
  t.is((await service.request(grantsPath(otherBot), { headers: bearer(scoped.key) })).status, 404);
  t.deepEqual(await grantTuplesOf(otherBot), []);
});

test('bad grants answer 422 naming the field and change nothing: an unknown user, editor for everyone, an expiry in the past, too far ahead or not RFC 3339', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const backfill = await makeBackfill();
  const id = botId(tenant, 'refused');
  await register(backfill.key, id, tenant.spaceId);
  const day = 24 * 60 * 60 * 1000;
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ subject: { type: 'user', id: '00000000-0000-4000-8000-00000000dead' }, role: 'viewer' }, 'body.subject.id'],
    [{ subject: { type: 'user', id: 'not-a-user-id' }, role: 'viewer' }, 'body.subject.id'],
    [{ subject: { type: 'organization', id: tenant.organizationId }, role: 'viewer' }, 'body.subject.type'],
    [{ subject: EVERYONE, role: 'editor' }, 'body.role'],
    [{ subject: userSubject(tenant.member), role: 'owner' }, 'body.role'],
    [{ subject: userSubject(tenant.member), role: 'viewer', expires_at: new Date(Date.now() - 60_000).toISOString() }, 'body.expires_at'],
    [{ subject: userSubject(tenant.member), role: 'viewer', expires_at: new Date(Date.now() + 400 * day).toISOString() }, 'body.expires_at'],
    [{ subject: userSubject(tenant.member), role: 'viewer', expires_at: '2027-01-01' }, 'body.expires_at'],
    [{ subject: userSubject(tenant.member), role: 'viewer', expires_at: '2027-01-01T00:00:00' }, 'body.expires_at'],
  ];
  for (const [body, field] of cases) {
    const response = await share(backfill.key, id, body);
    t.is(response.status, 422, JSON.stringify(body));
    t.like(await response.json(), { errors: [{ field }] }, JSON.stringify(body));
  }
  t.deepEqual(await grantTuplesOf(id), []);
  t.is(await grantRows(id), 0);
});

test('sharing reaches outside the organization: a user of another organization may be granted, with nothing else of the tenant', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const outsider = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(tenant, 'external');
  await register((await makeBackfill()).key, id, tenant.spaceId);
  t.is((await share(key, id, { subject: userSubject(outsider), role: 'viewer', on_behalf_of: onBehalfOf(tenant.workspaceAdmin) })).status, 201);
  t.true(await can('view', id, outsider));
  const otherBot = botId(tenant, 'not-shared');
  await register((await makeBackfill()).key, otherBot, tenant.spaceId);
  t.false(await can('view', otherBot, outsider), 'the grant is for one resource, not its workspace');
  t.is((await as(service, outsider).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 403);
});

test('a grant to a team reaches every member, nested teams included, and goes with the team', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const [team, nested] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  const teamMembers = (teamId: string) => `/api/v1/teams/${teamId}/members`;
  t.is((await as(service, tenant.owner).send('POST', teamMembers(team), { team_id: nested })).status, 201);
  t.is((await as(service, tenant.owner).send('POST', teamMembers(nested), { user_id: tenant.member.id })).status, 201);
  const id = botId(tenant, 'team');
  await register((await makeBackfill()).key, id, tenant.spaceId);
  t.false(await can('edit', id, tenant.member), 'a plain member holds no workspace role');

  const granted = await share(key, id, { subject: { type: 'team', id: team }, role: 'editor', on_behalf_of: onBehalfOf(tenant.editor) });
  t.is(granted.status, 201);
  t.like(await granted.json(), { subject: { type: 'team', id: team }, role: 'editor' });
  t.deepEqual(await grantTuplesOf(id), [`editor@team:${team}`]);
  t.true(await can('edit', id, tenant.member), 'a member of a team nested in the grantee edits');
  t.false(await can('share', id, tenant.member), 'a grant never lets its holders share');

  // A team of another organization (run by its admins) reads exactly like no team at all.
  const otherTenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const foreignTeam = await makeTeam(service, otherTenant);
  const refusals = [];
  for (const teamId of [crypto.randomUUID(), foreignTeam]) {
    const refused = await share(key, id, { subject: { type: 'team', id: teamId }, role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
    t.is(refused.status, 422);
    refusals.push(await refused.json());
  }
  t.like(refusals[0], { errors: [{ field: 'body.subject.id' }] });
  t.deepEqual(refusals[0].errors, refusals[1].errors);
  t.deepEqual(await grantTuplesOf(id), [`editor@team:${team}`], 'a refusal writes nothing');

  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${team}`)).status, 204);
  t.false(await can('edit', id, tenant.member));
  t.deepEqual(await grantTuplesOf(id), []);
  t.is(await service.orm.em.fork().count(ResourceGrant, { subjectType: 'team', subjectId: team }), 0);
});

test('public access: every user, any signed-in one, may view, and nothing more; the list shows the subject *', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(tenant, 'public');
  await register((await makeBackfill()).key, id, tenant.spaceId);
  const granted = await share(key, id, { subject: EVERYONE, role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  t.is(granted.status, 201);
  t.like(await granted.json(), { subject: { type: 'user', id: '*' }, role: 'viewer' });
  const anyone = await makeUser(service);
  t.true(await can('view', id, anyone));
  t.true(await can('view', id, tenant.stranger));
  t.false(await can('edit', id, anyone));
  t.false(await can('share', id, anyone));
  t.deepEqual(await grantTuplesOf(id), ['viewer@user:*']);
  t.like(await listGrants(key, id), [{ subject: { id: '*' }, role: 'viewer' }]);

  t.is((await unshare(key, id, { subject: EVERYONE, role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) })).status, 204);
  t.false(await can('view', id, anyone));
});

test('GET grants pages through them in the order they were made (next page in the Link header)', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const backfill = await makeBackfill();
  const id = botId(tenant, 'paged');
  await register(backfill.key, id, tenant.spaceId);
  const guests: SignedUpUser[] = [];
  for (let index = 0; index < 3; index++) {
    const guest = await makeUser(service);
    guests.push(guest);
    await share(backfill.key, id, { subject: userSubject(guest), role: 'viewer' });
  }
  const first = await service.request(`${grantsPath(id)}?limit=2`, { headers: bearer(backfill.key) });
  const firstPage = (await first.json()) as Array<{ subject: { id: string } }>;
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
  t.truthy(next);
  const secondPage = (await (await service.request(next ?? '', { headers: bearer(backfill.key) })).json()) as Array<{ subject: { id: string } }>;
  t.deepEqual([...firstPage, ...secondPage].map((grant) => grant.subject.id), guests.map((guest) => guest.id));
});

test('deleting the resource, or its workspace, removes every grant with it; a move keeps them', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const backfill = await makeBackfill();
  const [deleted, inDeletedSpace, moved] = [botId(tenant, 'deleted'), botId(tenant, 'in_space'), botId(tenant, 'moved')];
  for (const id of [deleted, inDeletedSpace, moved]) {
    await register(backfill.key, id, tenant.spaceId);
    await share(backfill.key, id, { subject: userSubject(guest), role: 'editor' });
    await share(backfill.key, id, { subject: EVERYONE, role: 'viewer' });
  }

  const put = await service.send('PUT', resourcePath(moved), { parent: { type: 'workspace', id: tenant.workspaceId } }, bearer(backfill.key));
  t.is(put.status, 200);
  t.deepEqual(await grantTuplesOf(moved), [`editor@user:${guest.id}`, 'viewer@user:*']);
  t.true(await can('edit', moved, guest));

  t.is((await service.send('DELETE', resourcePath(deleted), undefined, bearer(backfill.key))).status, 204);
  t.deepEqual(await grantTuplesOf(deleted), []);
  t.is(await grantRows(deleted), 0);

  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/workspaces/${tenant.spaceId}`)).status, 204);
  t.deepEqual(await grantTuplesOf(inDeletedSpace), [], 'grant tuples name no workspace: the deletion names the resource');
  t.is(await grantRows(inDeletedSpace), 0);
  t.false(await can('view', inDeletedSpace, guest));
  t.is(await service.orm.em.fork().count(Resource, { type: 'chatbot', id: inDeletedSpace }), 0);
});

test("a move to another organization leaves grants to the old organization's teams behind, and keeps the users' grants", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const other = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const backfill = await makeBackfill();
  const team = await makeTeam(service, tenant);
  t.is((await as(service, tenant.owner).send('POST', `/api/v1/teams/${team}/members`, { user_id: tenant.member.id })).status, 201);
  const id = botId(tenant, 'crosses');
  await register(backfill.key, id, tenant.spaceId);
  t.is((await share(backfill.key, id, { subject: { type: 'team', id: team }, role: 'editor' })).status, 201);
  t.is((await share(backfill.key, id, { subject: userSubject(guest), role: 'viewer' })).status, 201);

  const put = await service.send('PUT', resourcePath(id), { parent: { type: 'workspace', id: other.spaceId } }, bearer(backfill.key));
  t.is(put.status, 200);

  t.deepEqual(await grantTuplesOf(id), [`viewer@user:${guest.id}`]);
  t.is(await service.orm.em.fork().count(ResourceGrant, { resourceId: id, subjectType: 'team' }), 0);
  t.false(await can('view', id, tenant.member), "the old organization's team no longer reaches it");
  t.true(await can('view', id, guest));
});

test('deleting the organization removes the grants on its resources', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const backfill = await makeBackfill('knowledge_base');
  const id = botId(tenant, 'org_deleted');
  await register(backfill.key, id, tenant.spaceId, 'knowledge_base');
  t.is((await share(backfill.key, id, { subject: userSubject(guest), role: 'viewer' }, 'knowledge_base')).status, 201);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}`)).status, 204);
  t.deepEqual(await grantTuplesOf(id, 'knowledge_base'), []);
  t.false(await can('view', id, guest, 'knowledge_base'));
});

test('grants and revocations are audited in the organization, naming the account and the user it acted for', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await makeUser(service);
  const { key, account } = await makeServiceAccount(service, ['chatbot']);
  const id = botId(tenant, 'audited');
  await register((await makeBackfill()).key, id, tenant.spaceId);
  await share(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  await unshare(key, id, { subject: userSubject(guest), role: 'viewer', on_behalf_of: onBehalfOf(tenant.editor) });
  const events = await service.orm.em.fork().execute<Array<Record<string, string>>>(
    "select action, actor_type, actor_id, on_behalf_of from audit_events where organization_id = ? and target_id = ? and action like 'resource.grant.%' order by position",
    [tenant.organizationId, id],
  );
  t.deepEqual(
    events.map((event) => [event.action, event.actor_type, event.actor_id, event.on_behalf_of]),
    [
      ['resource.grant.added', 'service_account', account.id, tenant.editor.id],
      ['resource.grant.removed', 'service_account', account.id, tenant.editor.id],
    ],
  );
});

test('the relationship-shaped endpoint registers parents only: a viewer tuple answers 422 and writes nothing', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeBackfill();
  const id = botId(tenant, 'legacy');
  await register(key, id, tenant.spaceId);
  const response = await service.send(
    'POST',
    '/api/v1/authz/relationships',
    { relationships: [{ resource: { type: 'chatbot', id }, relation: 'viewer', subject: userSubject(tenant.member) }] },
    bearer(key),
  );
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.relationships.0.relation' }] });
  t.deepEqual(await grantTuplesOf(id), []);
});
