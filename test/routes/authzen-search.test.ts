import test from 'ava';
import { as, bearer, makeServiceAccount, makeTeam, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

/** AuthZEN 1.0 search: subjects, resources and actions, transitive, each once, paged by opaque tokens. */

const service = useTestService(test);

type Search<T> = { page: { next_token: string }; results: T[] };
type Entity = { type: string; id: string };

const user = (id: string) => ({ type: 'user', id });
const workspace = (id: string) => ({ type: 'workspace', id });

async function search<T = Entity>(key: string, kind: 'subject' | 'resource' | 'action', body: unknown) {
  const response = await service.send('POST', `/access/v1/search/${kind}`, body, bearer(key));
  const text = await response.text();
  return { status: response.status, text, body: (response.status === 200 ? JSON.parse(text) : undefined) as Search<T> };
}

/** Every result, page after page of `limit`. */
async function everyPage<T>(key: string, kind: 'subject' | 'resource' | 'action', body: Record<string, unknown>, limit: number) {
  const results: T[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 20; pages += 1) {
    const { body: answer } = await search<T>(key, kind, { ...body, page: { limit, ...(token && { token }) } });
    assertWithinLimit(answer.results.length, limit);
    results.push(...answer.results);
    if (answer.page.next_token === '') return { results, pages: pages + 1 };
    token = answer.page.next_token;
  }
  throw new Error('paging did not end');
}

function assertWithinLimit(length: number, limit: number) {
  if (length > limit) throw new Error(`a page of ${length} exceeds its limit ${limit}`);
}

async function registerBots(key: string, tenant: WorkspaceTenant, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `bot_${tenant.organizationId.slice(0, 8)}_${index}`);
  for (const id of ids) {
    const body = { parent: workspace(tenant.spaceId), on_behalf_of: onBehalfOf(tenant.workspaceAdmin) };
    const response = await service.send('PUT', `/api/v1/authz/resources/chatbot/${id}`, body, bearer(key));
    if (response.status !== 201) throw new Error(`registering ${id}: ${response.status}`);
  }
  return ids.sort();
}

test('subject search is transitive (nested teams count), ignores the searched id, answers each subject once', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const [team, nested] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  const owner = as(service, tenant.owner);
  t.is((await owner.send('POST', `/api/v1/teams/${team}/members`, { team_id: nested })).status, 201);
  t.is((await owner.send('POST', `/api/v1/teams/${nested}/members`, { user_id: tenant.member.id })).status, 201);
  // The editor is also in the team: reached twice, answered once.
  t.is((await owner.send('POST', `/api/v1/teams/${team}/members`, { user_id: tenant.editor.id })).status, 201);
  t.is((await owner.send('POST', `/api/v1/workspaces/${tenant.spaceId}/members`, { team_id: team, role: 'viewer' })).status, 200);

  const { status, body } = await search(key, 'subject', {
    subject: { type: 'user', id: 'ignored' },
    action: { name: 'EDIT' },
    resource: workspace(tenant.spaceId),
  });
  t.is(status, 200);
  const editors = body.results.map((result) => result.id);
  t.true(editors.includes(tenant.editor.id));
  t.false(editors.includes(tenant.viewer.id));
  const viewers = (await search(key, 'subject', { subject: { type: 'user' }, action: { name: 'view' }, resource: workspace(tenant.spaceId) })).body;
  const ids = viewers.results.map((result) => result.id);
  t.true(ids.includes(tenant.member.id), 'through the nested team');
  t.true(ids.includes(tenant.viewer.id));
  t.false(ids.includes(tenant.stranger.id));
  t.deepEqual(ids, [...new Set(ids)].sort(), 'each once, in id order');
  t.true(viewers.results.every((result) => result.type === 'user'));
  t.is(viewers.page.next_token, '', 'no limit: the whole result, ended');
});

test('resource search pages with {token, limit} to an empty next_token, each id once, the searched id ignored', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const bots = await registerBots(key, tenant, 5);
  const body = { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: { type: 'chatbot', id: 'ignored' } };

  const whole = (await search(key, 'resource', body)).body;
  t.deepEqual(whole.results, bots.map((id) => ({ type: 'chatbot', id })));
  t.is(whole.page.next_token, '');
  const paged = await everyPage<Entity>(key, 'resource', body, 2);
  t.deepEqual(paged.results.map((result) => result.id), bots);
  t.is(paged.pages, 3);
  const none = (await search(key, 'resource', { ...body, subject: user(tenant.stranger.id) })).body;
  t.deepEqual(none, { page: { next_token: '' }, results: [] });
});

test('action search answers the permissions the subject holds, never relations, and pages', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const body = { subject: user(tenant.editor.id), resource: workspace(tenant.spaceId) };

  const { body: answer } = await search<{ name: string }>(key, 'action', body);
  const names = answer.results.map((result) => result.name);
  t.true(names.includes('view'));
  t.true(names.includes('edit'));
  t.false(names.includes('delete'));
  for (const relation of ['admin', 'editor', 'viewer', 'organization']) t.false(names.includes(relation), relation);
  const paged = await everyPage<{ name: string }>(key, 'action', body, 1);
  t.deepEqual(paged.results.map((result) => result.name), names);
  t.deepEqual((await search(key, 'action', { ...body, subject: user(tenant.stranger.id) })).body.results, []);
});

test('a page token serves only the search it came from (400 otherwise); a bad limit is a 400', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const body = { subject: user(tenant.editor.id), resource: workspace(tenant.spaceId), page: { limit: 1 } };
  const first = (await search(key, 'action', body)).body;
  t.not(first.page.next_token, '');
  const changed = await search(key, 'action', { ...body, subject: user(tenant.viewer.id), page: { limit: 1, token: first.page.next_token } });
  t.is(changed.status, 400);
  t.is((await search(key, 'action', { ...body, page: { token: 'forged' } })).status, 400);
  t.is((await search(key, 'action', { ...body, page: { limit: -1 } })).status, 400);
  const resources = { subject: user(tenant.editor.id), action: { name: 'view' }, resource: { type: 'workspace' } };
  t.is((await search(key, 'resource', { ...resources, page: { token: first.page.next_token } })).status, 400, "another search's token");
  const subjects = { subject: { type: 'user' }, action: { name: 'view' }, resource: workspace(tenant.spaceId) };
  const whole = (await search(key, 'subject', subjects)).body.results;
  const paged = await everyPage<Entity>(key, 'subject', subjects, 2);
  t.deepEqual(paged.results, whole, 'subject search pages through the same subjects');
  t.is(paged.pages, Math.ceil(whole.length / 2));
  t.is((await search(key, 'resource', { subject: user(tenant.editor.id), action: { name: 'view' } })).status, 400, 'no resource type');
});

test('unknown types or actions find nothing; a user may search its own resources but not list subjects', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const empty = { page: { next_token: '' }, results: [] };
  t.deepEqual((await search(key, 'resource', { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: { type: 'spaceship' } })).body, empty);
  t.deepEqual((await search(key, 'subject', { subject: { type: 'user' }, action: { name: 'fly' }, resource: workspace(tenant.spaceId) })).body, empty);

  const own = await search(tenant.viewer.accessToken, 'resource', { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: { type: 'workspace' } });
  t.is(own.status, 200);
  t.true(own.body.results.some((result) => result.id === tenant.spaceId));
  t.is((await search(tenant.viewer.accessToken, 'resource', { subject: user(tenant.editor.id), action: { name: 'view' }, resource: { type: 'workspace' } })).status, 403);
  t.is((await search(tenant.viewer.accessToken, 'subject', { subject: { type: 'user' }, action: { name: 'view' }, resource: workspace(tenant.spaceId) })).status, 403);
});

test("a stranger's key learns nothing from a search: hidden and missing resources answer alike", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const elsewhere = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [elsewhere.organizationId] });
  const subjects = (id: string) => search(key, 'subject', { subject: { type: 'user' }, action: { name: 'view' }, resource: workspace(id) });
  const actions = (id: string) => search(key, 'action', { subject: user(tenant.owner.id), resource: workspace(id) });
  const missing = '00000000-0000-4000-8000-000000000000';
  for (const ask of [subjects, actions]) {
    const [hidden, absent] = [await ask(tenant.spaceId), await ask(missing)];
    t.is(hidden.status, 403);
    t.is(absent.status, 403);
    t.is(hidden.text, absent.text);
  }
  const resources = await search(key, 'resource', { subject: user(tenant.owner.id), action: { name: 'view' }, resource: { type: 'workspace' } });
  t.deepEqual(resources.body.results, [], "the scoped key sees none of another organization's workspaces");
});
