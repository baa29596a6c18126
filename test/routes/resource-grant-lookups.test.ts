import test from 'ava';
import { bearer, makeServiceAccount, makeUser, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import { waitUntilExpired } from '../support/expiry.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * lookup-resources and lookup-subjects see direct grants, public access and expiries as checks
 * do: a grantee finds what was shared with them, and "who can view this?" names the grantees and
 * `*` for public access (never every user expanded). An expired grant drops out of both.
 */

const service = useTestService(test);

interface Setup {
  tenant: WorkspaceTenant;
  key: string;
  bots: { viewed: string; edited: string; expiring: string; public: string; unshared: string };
  expiresAt: Date;
}

/** Five chatbots of one workspace, shared in different ways with `guest`, a user of no organization of theirs. */
async function sharedBots(guest: { id: string }, expiresInMs: number): Promise<Setup> {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const prefix = `bot_${tenant.organizationId.slice(0, 8)}`;
  const bots = {
    viewed: `${prefix}_viewed`,
    edited: `${prefix}_edited`,
    expiring: `${prefix}_expiring`,
    public: `${prefix}_public`,
    unshared: `${prefix}_unshared`,
  };
  // For the workspace's admin, who may add chatbots to it and share them.
  const forAdmin = onBehalfOf(tenant.workspaceAdmin);
  for (const id of Object.values(bots)) {
    await service.send('PUT', `/api/v1/authz/resources/chatbot/${id}`, { parent: { type: 'workspace', id: tenant.spaceId }, on_behalf_of: forAdmin }, bearer(key));
  }
  const expiresAt = new Date(Date.now() + expiresInMs);
  const grants: Array<[string, Record<string, unknown>]> = [
    [bots.viewed, { subject: { type: 'user', id: guest.id }, role: 'viewer' }],
    [bots.edited, { subject: { type: 'user', id: guest.id }, role: 'editor' }],
    [bots.expiring, { subject: { type: 'user', id: guest.id }, role: 'viewer', expires_at: expiresAt.toISOString() }],
    [bots.public, { subject: { type: 'user', id: '*' }, role: 'viewer' }],
  ];
  for (const [id, body] of grants) {
    const response = await service.send('POST', `/api/v1/authz/resources/chatbot/${id}/grants`, { ...body, on_behalf_of: forAdmin }, bearer(key));
    if (response.status !== 201) throw new Error(`granting answered ${response.status}`);
  }
  return { tenant, key, bots, expiresAt };
}

async function lookupResources(key: string, user: { id: string }, permission: string): Promise<string[]> {
  const response = await service.send(
    'POST',
    '/api/v1/authz/lookup-resources',
    { resource_type: 'chatbot', permission, subject: { type: 'user', id: user.id }, limit: 1000 },
    bearer(key),
  );
  return ((await response.json()) as { resource_ids: string[] }).resource_ids;
}

async function lookupSubjects(key: string, id: string, permission: string): Promise<string[]> {
  const response = await service.send(
    'POST',
    '/api/v1/authz/lookup-subjects',
    { resource: { type: 'chatbot', id }, permission, subject_type: 'user' },
    bearer(key),
  );
  return ((await response.json()) as { subject_ids: string[] }).subject_ids;
}

/** The ids among `ids` that belong to this setup (other tests' public chatbots are everyone's too). */
function own(setup: Setup, ids: string[]): string[] {
  const mine = new Set(Object.values(setup.bots));
  return ids.filter((id) => mine.has(id));
}

test('lookup-resources finds what was shared with a user, directly or publicly, by permission, until a grant expires', async (t) => {
  const guest = await makeUser(service);
  const setup = await sharedBots(guest, 3_000);
  const { key, bots } = setup;
  t.deepEqual(own(setup, await lookupResources(key, guest, 'view')), [bots.edited, bots.expiring, bots.public, bots.viewed]);
  t.deepEqual(own(setup, await lookupResources(key, guest, 'edit')), [bots.edited]);
  t.deepEqual(own(setup, await lookupResources(key, guest, 'share')), []);
  const anyone = await makeUser(service);
  t.deepEqual(own(setup, await lookupResources(key, anyone, 'view')), [bots.public], 'public access reaches any user');

  await waitUntilExpired(service, setup.expiresAt);
  t.deepEqual(own(setup, await lookupResources(key, guest, 'view')), [bots.edited, bots.public, bots.viewed]);
});

test('lookup-subjects names the grantees, and * (not every user) for public access; an expired grantee drops out', async (t) => {
  const guest = await makeUser(service);
  const setup = await sharedBots(guest, 3_000);
  const { tenant, key, bots } = setup;
  const workspaceViewers = [tenant.owner, tenant.admin, tenant.workspaceAdmin, tenant.editor, tenant.viewer].map((user) => user.id);
  const sharers = [tenant.owner, tenant.admin, tenant.workspaceAdmin, tenant.editor].map((user) => user.id);
  const sorted = (ids: string[]) => [...ids].sort();

  t.deepEqual(await lookupSubjects(key, bots.viewed, 'view'), sorted([...workspaceViewers, guest.id]));
  t.deepEqual(await lookupSubjects(key, bots.edited, 'edit'), sorted([...sharers, guest.id]));
  t.deepEqual(await lookupSubjects(key, bots.viewed, 'edit'), sorted(sharers), 'a viewer grant gives no edit');
  t.deepEqual(await lookupSubjects(key, bots.edited, 'share'), sorted(sharers), 'no grant gives share');
  t.deepEqual(await lookupSubjects(key, bots.public, 'view'), sorted(['*', ...workspaceViewers]));
  t.deepEqual(await lookupSubjects(key, bots.public, 'edit'), sorted(sharers));
  t.deepEqual(await lookupSubjects(key, bots.unshared, 'view'), sorted(workspaceViewers));
  t.deepEqual(await lookupSubjects(key, bots.expiring, 'view'), sorted([...workspaceViewers, guest.id]));

  await waitUntilExpired(service, setup.expiresAt);
  t.deepEqual(await lookupSubjects(key, bots.expiring, 'view'), sorted(workspaceViewers));
});
