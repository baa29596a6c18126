import test from 'ava';
import { as, bearer, joinByConsent, makeServiceAccount, makeWorkspaceTenant, makeUser, onBehalfOf } from '../support/factories.ts';
import type { CheckBody, CheckBulkBody, LookupResourcesBody, LookupSubjectsBody, SchemaBody, WrittenBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const user = (id: string) => ({ type: 'user', id });
const post = (key: string, path: string, body: unknown) => service.send('POST', `/api/v1/authz/${path}`, body, bearer(key));

test('a service account checks with a registry name or the schema permission name', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const organization = { type: 'organization', id: tenant.organizationId };
  const check = async (permission: string, subject: string) =>
    (await (await post(key, 'check', { resource: organization, permission, subject: user(subject), consistency: 'fully_consistent' })).json()) as CheckBody;

  t.true((await check('org:invite', tenant.admin.id)).allowed);
  t.false((await check('org:invite', tenant.member.id)).allowed);
  t.true((await check('delete', tenant.owner.id)).allowed);
  t.false((await check('delete', tenant.stranger.id)).allowed);
  t.truthy((await check('view', tenant.member.id)).checked_at, 'the ZedToken to pass on');
});

test('a user may check about itself; about anyone else, 403', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const resource = { type: 'workspace', id: tenant.spaceId };
  const own = await post(tenant.editor.accessToken, 'check', {
    resource,
    permission: 'workspace:edit',
    subject: user(tenant.editor.id),
    consistency: 'fully_consistent',
  });
  t.is(own.status, 200);
  t.true(((await own.json()) as CheckBody).allowed);
  const other = await post(tenant.editor.accessToken, 'check', { resource, permission: 'workspace:edit', subject: user(tenant.viewer.id) });
  t.is(other.status, 403);
  const bulk = await post(tenant.editor.accessToken, 'check-bulk', {
    items: [
      { resource, permission: 'view', subject: user(tenant.editor.id) },
      { resource, permission: 'view', subject: user(tenant.viewer.id) },
    ],
  });
  t.is(bulk.status, 403);
});

test('a user may not list who holds a permission nor write relationships (403)', async (t) => {
  const caller = await makeUser(service);
  const lookup = await post(caller.accessToken, 'lookup-subjects', {
    resource: { type: 'organization', id: caller.organizationId },
    permission: 'view',
    subject_type: 'user',
  });
  t.is(lookup.status, 403);
  const write = await post(caller.accessToken, 'relationships', {
    relationships: [{ resource: { type: 'chatbot', id: 'x' }, relation: 'workspace', subject: { type: 'workspace', id: caller.workspaceId } }],
  });
  t.is(write.status, 403);
});

test('an unknown, malformed or revoked key answers 401', async (t) => {
  const tenant = await makeUser(service);
  const body = { resource: { type: 'organization', id: tenant.organizationId }, permission: 'view', subject: user(tenant.id) };
  t.is((await post('tak_not-a-real-key', 'check', body)).status, 401);
  t.is((await service.send('POST', '/api/v1/authz/check', body, { Authorization: 'Bearer' })).status, 401);
  const account = await makeServiceAccount(service);
  t.is((await post(account.key, 'check', body)).status, 200);
  await account.revoke();
  const revoked = await post(account.key, 'check', body);
  t.is(revoked.status, 401);
  t.is(revoked.headers.get('www-authenticate'), 'Bearer');
  t.is((await as(service, { accessToken: account.key }).get('/api/v1/orgs')).status, 401, 'keys are not user tokens');
});

test('unknown types, permissions or malformed ids answer 422 naming the field', async (t) => {
  const tenant = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const organization = { type: 'organization', id: tenant.organizationId };
  const cases: Array<[unknown, string]> = [
    [{ resource: { type: 'spaceship', id: '1' }, permission: 'view', subject: user(tenant.id) }, 'body.resource.type'],
    [{ resource: organization, permission: 'fly', subject: user(tenant.id) }, 'body.permission'],
    [{ resource: organization, permission: 'workspace:edit', subject: user(tenant.id) }, 'body.permission'],
    [{ resource: organization, permission: 'view', subject: { type: 'robot', id: 'r2' } }, 'body.subject.type'],
    [{ resource: { type: 'organization', id: 'has spaces' }, permission: 'view', subject: user(tenant.id) }, 'body.resource.id'],
    [{ resource: organization, permission: 'view', subject: { type: 'user', id: '*' } }, 'body.subject.id'],
    [{ resource: organization, permission: 'view', subject: user(tenant.id), consistency: 'eventually' }, 'body.consistency'],
  ];
  for (const [body, field] of cases) {
    const response = await post(key, 'check', body);
    t.is(response.status, 422, field);
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    t.true(problem.errors.some((error) => error.field === field), `${field}: ${JSON.stringify(problem.errors)}`);
  }
  const tooMany = Array.from({ length: 1001 }, () => ({ resource: organization, permission: 'view', subject: user(tenant.id) }));
  t.is((await post(key, 'check-bulk', { items: tooMany })).status, 422);
});

test('check-bulk answers each item in order from one call', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const resource = { type: 'workspace', id: tenant.spaceId };
  const response = await post(key, 'check-bulk', {
    items: [
      { resource, permission: 'edit', subject: user(tenant.editor.id) },
      { resource, permission: 'edit', subject: user(tenant.viewer.id) },
      { resource, permission: 'workspace:view', subject: user(tenant.member.id) },
      { resource, permission: 'workspace:delete', subject: user(tenant.admin.id) },
    ],
    consistency: 'fully_consistent',
  });
  t.is(response.status, 200);
  const body = (await response.json()) as CheckBulkBody;
  t.deepEqual(body.results.map((result) => result.allowed), [true, false, false, true]);
});

test('a service registers its chatbot under a workspace; workspace roles then reach it; removing it ends that', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const chatbot = { type: 'chatbot', id: `bot_${tenant.spaceId.slice(0, 8)}` };
  const relationships = [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } }];
  // For the workspace's admin, who may both add a chatbot to it and delete one.
  const forAdmin = onBehalfOf(tenant.workspaceAdmin);

  const written = await post(key, 'relationships', { relationships, on_behalf_of: forAdmin });
  t.is(written.status, 200);
  const { written_at: writtenAt } = (await written.json()) as WrittenBody;
  const canEdit = async (userId: string, token: string) =>
    ((await (await post(key, 'check', { resource: chatbot, permission: 'chatbot:edit', subject: user(userId), consistency: { at_least_as_fresh: token } })).json()) as CheckBody).allowed;
  t.true(await canEdit(tenant.editor.id, writtenAt));
  t.false(await canEdit(tenant.viewer.id, writtenAt));
  t.true(await canEdit(tenant.admin.id, writtenAt), 'org admins reach it through the workspace');

  const removed = await service.send('DELETE', '/api/v1/authz/relationships', { relationships, on_behalf_of: forAdmin }, bearer(key));
  t.is(removed.status, 200);
  t.false(await canEdit(tenant.editor.id, ((await removed.json()) as WrittenBody).written_at));
});

test('a service writes only its own resource types, never organization or workspace roles (403)', async (t) => {
  const tenant = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const workspace = { type: 'workspace', id: tenant.workspaceId };
  for (const relationship of [
    { resource: { type: 'knowledge_base', id: 'kb1' }, relation: 'workspace', subject: workspace },
    { resource: { type: 'organization', id: tenant.organizationId }, relation: 'owner', subject: user('00000000-0000-4000-8000-000000000001') },
    { resource: workspace, relation: 'admin', subject: user('00000000-0000-4000-8000-000000000001') },
  ]) {
    t.is((await post(key, 'relationships', { relationships: [relationship], on_behalf_of: onBehalfOf(tenant) })).status, 403, relationship.resource.type);
  }
});

test('a write with one invalid relationship is refused whole (422) and writes nothing', async (t) => {
  const tenant = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const good = { resource: { type: 'chatbot', id: `bot_${tenant.id.slice(0, 8)}` }, relation: 'workspace', subject: { type: 'workspace', id: tenant.workspaceId } };
  const bad = { resource: { type: 'chatbot', id: 'bot_bad' }, relation: 'workspace', subject: { type: 'user', id: tenant.id } };
  const response = await post(key, 'relationships', { relationships: [good, bad], on_behalf_of: onBehalfOf(tenant) });
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.relationships.1.subject.type' }] });
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: good.resource.id }), []);
});

test('lookup-resources pages through the chatbots a user can view', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const ids = ['a', 'b', 'c', 'd', 'e'].map((suffix) => `bot_${tenant.spaceId.slice(0, 8)}_${suffix}`);
  await post(key, 'relationships', {
    relationships: ids.map((id) => ({ resource: { type: 'chatbot', id }, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } })),
    on_behalf_of: onBehalfOf(tenant.workspaceAdmin),
  });
  const seen: string[] = [];
  let cursor: string | null | undefined;
  let pages = 0;
  do {
    const response = await post(tenant.viewer.accessToken, 'lookup-resources', {
      resource_type: 'chatbot',
      permission: 'view',
      subject: user(tenant.viewer.id),
      limit: 2,
      consistency: 'fully_consistent',
      ...(cursor && { cursor }),
    });
    t.is(response.status, 200);
    const page = (await response.json()) as LookupResourcesBody;
    seen.push(...page.resource_ids);
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  // Only this tenant's: another test file's public chatbot (`user:*`) is viewable by every user
  // while it exists on a SpiceDB server the files share.
  t.deepEqual(seen.filter((id) => ids.includes(id)).sort(), ids);
  t.true(pages >= 3);
});

test('lookup-subjects answers who can do a permission on a resource', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const response = await post(key, 'lookup-subjects', {
    resource: { type: 'workspace', id: tenant.spaceId },
    permission: 'workspace:edit',
    subject_type: 'user',
    consistency: 'fully_consistent',
  });
  t.is(response.status, 200);
  const { subject_ids: ids } = (await response.json()) as LookupSubjectsBody;
  t.deepEqual(ids.sort(), [tenant.owner.id, tenant.admin.id, tenant.workspaceAdmin.id, tenant.editor.id].sort());
});

test('GET /authz/schema answers the schema text and the permission registry', async (t) => {
  const { key } = await makeServiceAccount(service);
  const response = await service.request('/api/v1/authz/schema', { headers: bearer(key) });
  t.is(response.status, 200);
  const body = (await response.json()) as SchemaBody;
  t.regex(body.schema, /definition organization \{/);
  t.deepEqual(body.permissions.find((entry) => entry.name === 'org:invite'), {
    name: 'org:invite',
    resource_type: 'organization',
    permission: 'invite',
    description: 'Add members',
  });
});

test('a membership change made through the tenant API is visible to the next check with the returned ZedToken', async (t) => {
  const [owner, invitee] = [await makeUser(service), await makeUser(service)];
  const { key } = await makeServiceAccount(service);
  const organization = { type: 'organization', id: owner.organizationId };
  const canView = async (token: string) =>
    ((await (await post(key, 'check', { resource: organization, permission: 'org:view', subject: user(invitee.id), consistency: { at_least_as_fresh: token } })).json()) as CheckBody).allowed;

  const added = await joinByConsent(service, owner, owner.organizationId, invitee);
  const grantToken = added.headers.get('zedtoken');
  t.truthy(grantToken);
  t.true(await canView(grantToken ?? ''));

  const removed = await as(service, owner).send('DELETE', `/api/v1/orgs/${owner.organizationId}/members/${invitee.id}`);
  const revokeToken = removed.headers.get('zedtoken');
  t.truthy(revokeToken);
  t.false(await canView(revokeToken ?? ''));
});

/**
 * Pages through the chatbots the subject may edit; between pages, `between` may change the graph.
 * `edit`, not `view`: another test file's public chatbot (`user:*`, viewer only) would show in
 * every user's `view` lookup while it exists on a SpiceDB server the files share.
 */
async function lookupAll(key: string, subjectId: string, limit: number, between: (page: number) => Promise<void> = async () => {}) {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const response = await post(key, 'lookup-resources', { resource_type: 'chatbot', permission: 'edit', subject: user(subjectId), limit, ...(cursor && { cursor }) });
    if (response.status !== 200) throw new Error(`lookup answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as LookupResourcesBody;
    pages.push(page.resource_ids);
    cursor = page.next_cursor;
    await between(pages.length);
  } while (cursor && pages.length < 20);
  return pages;
}

/** Registers chatbots in the user's default workspace, for them. */
async function registerChatbots(key: string, user: { id: string; workspaceId: string }, ids: string[]) {
  const response = await post(key, 'relationships', {
    relationships: ids.map((id) => ({ resource: { type: 'chatbot', id }, relation: 'workspace', subject: { type: 'workspace', id: user.workspaceId } })),
    on_behalf_of: onBehalfOf(user),
  });
  if (response.status !== 200) throw new Error(`registering answered ${response.status}`);
}

test('lookup-resources lists each id once, in full pages, even when the subject reaches it by several paths', async (t) => {
  // The owner reaches the default workspace's chatbots as organization owner and as its workspace admin.
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const ids = ['a', 'b', 'c', 'd', 'e'].map((suffix) => `bot_${owner.id.slice(0, 8)}_${suffix}`);
  await registerChatbots(key, owner, ids);

  // In SpiceDB's order, not sorted (test/routes/lookup-pages.test.ts pages more paths).
  const pages = await lookupAll(key, owner.id, 2);
  t.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
  t.deepEqual(pages.flat().sort(), ids);
  t.deepEqual((await lookupAll(key, owner.id, 100)).flat().sort(), ids);
});

test('paging a lookup reads one snapshot: ids added or removed between pages are neither skipped nor repeated', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const prefix = `bot_${owner.id.slice(0, 8)}`;
  const ids = ['b', 'd', 'f', 'h'].map((suffix) => `${prefix}_${suffix}`);
  await registerChatbots(key, owner, ids);

  const pages = await lookupAll(key, owner.id, 2, async (page) => {
    if (page !== 1) return;
    await registerChatbots(key, owner, [`${prefix}_a`, `${prefix}_e`]);
    await service.send('DELETE', '/api/v1/authz/relationships', {
      relationships: [{ resource: { type: 'chatbot', id: `${prefix}_f` }, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }],
      on_behalf_of: onBehalfOf(owner),
    }, bearer(key));
  });
  t.deepEqual(pages.flat().sort(), ids, 'the listing as it was when it began');
  t.deepEqual((await lookupAll(key, owner.id, 100)).flat().sort(), [`${prefix}_a`, `${prefix}_b`, `${prefix}_d`, `${prefix}_e`, `${prefix}_h`]);
});

test('lookup-subjects lists each subject once, even when it holds the permission by several paths', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const chatbot = `bot_${owner.id.slice(0, 8)}`;
  await registerChatbots(key, owner, [chatbot]);
  const response = await post(key, 'lookup-subjects', { resource: { type: 'chatbot', id: chatbot }, permission: 'view', subject_type: 'user' });
  t.deepEqual(((await response.json()) as LookupSubjectsBody).subject_ids, [owner.id]);
});
