import test from 'ava';
import { as, bearer, joinByConsent, makeServiceAccount, makeUser, onBehalfOf, type SignedUpUser } from '../support/factories.ts';
import { allowed } from '../support/checks.ts';
import { canRunSpiceDbServer, startSpiceDbServer, type SpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, useTestService } from '../support/test-service.ts';
import type { CheckBody, CheckBulkBody, LookupResourcesBody, LookupSubjectsBody } from '../support/responses.ts';

/**
 * A caller that passes no consistency sees every write the service acknowledged before its
 * request: grants and revocations, from the tenant API and from /authz/relationships. SpiceDB's
 * own minimize_latency reads a revision up to ~5 s old on its Postgres datastore, so each of these
 * fails without the floor. The memory datastore hides that staleness, so these run against a
 * `spicedb serve` on Postgres of their own wherever the binary is built (CI builds it).
 */

let spicedb: SpiceDbServer | undefined;
let environment: Record<string, string> = {};
const service = useTestService(test, async () => {
  if (canRunSpiceDbServer) {
    spicedb = await startSpiceDbServer({ datastore: 'postgres' });
    environment = { SPICEDB_ENDPOINT: spicedb.endpoint, SPICEDB_PRESHARED_KEY: spicedb.presharedKey, SPICEDB_INSECURE: 'true' };
  }
  return { environment };
});
test.after.always(async () => {
  await spicedb?.stop();
});

const user = (id: string) => ({ type: 'user', id });
const post = (key: string, path: string, body: unknown) => service.send('POST', `/api/v1/authz/${path}`, body, bearer(key));

/** An owner whose default workspace holds a chatbot, and a service account that registered it. */
async function workspaceWithChatbot() {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const chatbot = { type: 'chatbot', id: `bot_${owner.id.slice(0, 8)}` };
  // Editors are granted by the tests themselves, not by joining.
  await as(service, owner).send('PATCH', `/api/v1/orgs/${owner.organizationId}`, { default_workspace_role: 'none' });
  const registered = await post(key, 'relationships', {
    relationships: [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }],
    on_behalf_of: onBehalfOf(owner),
  });
  if (registered.status !== 200) throw new Error(`registering answered ${registered.status}`);
  return { owner, key, chatbot };
}

async function addEditor(owner: SignedUpUser): Promise<SignedUpUser> {
  const editor = await makeUser(service);
  await joinByConsent(service, owner, owner.organizationId, editor);
  const added = await as(service, owner).send('POST', `/api/v1/workspaces/${owner.workspaceId}/members`, { user_id: editor.id, role: 'editor' });
  if (added.status !== 200) throw new Error(`adding an editor answered ${added.status}`);
  return editor;
}

test('with no consistency given, a check sees a workspace role granted just before it, and its removal', async (t) => {
  const { owner, key, chatbot } = await workspaceWithChatbot();
  for (let round = 0; round < 3; round++) {
    const editor = await addEditor(owner);
    t.true(await allowed(service, { resource: chatbot, permission: 'chatbot:edit', subject: user(editor.id) }, key), `round ${round}: granted`);
    await as(service, owner).send('DELETE', `/api/v1/workspaces/${owner.workspaceId}/members/${editor.id}`);
    t.false(await allowed(service, { resource: chatbot, permission: 'chatbot:edit', subject: user(editor.id) }, key), `round ${round}: revoked`);
  }
});

test('with no consistency given, a check sees a relationship a service wrote just before it, and its deletion', async (t) => {
  const { owner, key } = await workspaceWithChatbot();
  for (let round = 0; round < 3; round++) {
    const chatbot = { type: 'chatbot', id: `bot_${owner.id.slice(0, 8)}_${round}` };
    const relationships = [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }];
    await post(key, 'relationships', { relationships, on_behalf_of: onBehalfOf(owner) });
    t.true(await allowed(service, { resource: chatbot, permission: 'chatbot:delete', subject: user(owner.id) }, key), `round ${round}: registered`);
    await service.send('DELETE', '/api/v1/authz/relationships', { relationships, on_behalf_of: onBehalfOf(owner) }, bearer(key));
    t.false(await allowed(service, { resource: chatbot, permission: 'chatbot:delete', subject: user(owner.id) }, key), `round ${round}: removed`);
  }
});

test('while checks about other chatbots keep being answered from the cache and the older floor, each write to one chatbot, and each role change, is seen by the next check', async (t) => {
  const { owner, key, chatbot: steady } = await workspaceWithChatbot();
  const editor = await addEditor(owner);
  let done = false;
  const background = Array.from({ length: 3 }, async () => {
    let answered = 0;
    while (!done) {
      if (!(await allowed(service, { resource: steady, permission: 'chatbot:view', subject: user(owner.id) }, key))) throw new Error('the steady chatbot was denied');
      answered++;
    }
    return answered;
  });
  try {
    for (let round = 0; round < 8; round++) {
      const chatbot = { type: 'chatbot', id: `bot_${owner.id.slice(0, 8)}_mixed_${round}` };
      const relationships = [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }];
      const check = (permission: string) => allowed(service, { resource: chatbot, permission, subject: user(editor.id) }, key);
      t.false(await check('chatbot:view'), `round ${round}: not registered yet (a deny the cache may keep)`);
      t.is((await post(key, 'relationships', { relationships, on_behalf_of: onBehalfOf(owner) })).status, 200);
      t.true(await check('chatbot:view'), `round ${round}: registered`);
      const role = round % 2 === 0 ? 'viewer' : 'editor';
      t.is(await check('chatbot:edit'), role === 'viewer', `round ${round}: edit before the change to ${role}`);
      t.is((await as(service, owner).send('PATCH', `/api/v1/workspaces/${owner.workspaceId}/members/${editor.id}`, { role })).status, 200);
      t.is(await check('chatbot:edit'), role === 'editor', `round ${round}: edit after the change to ${role}`);
      t.is((await service.send('DELETE', '/api/v1/authz/relationships', { relationships, on_behalf_of: onBehalfOf(owner) }, bearer(key))).status, 200);
      t.false(await check('chatbot:view'), `round ${round}: removed`);
    }
  } finally {
    done = true;
  }
  t.true((await Promise.all(background)).every((answered) => answered > 0));
});

test('with no consistency given, bulk checks and both lookups see a grant made just before them', async (t) => {
  const { owner, key, chatbot } = await workspaceWithChatbot();
  const editor = await addEditor(owner);
  const bulk = await post(key, 'check-bulk', { items: [{ resource: chatbot, permission: 'edit', subject: user(editor.id) }] });
  t.deepEqual(((await bulk.json()) as CheckBulkBody).results, [{ allowed: true }]);

  const resources = await post(key, 'lookup-resources', { resource_type: 'chatbot', permission: 'edit', subject: user(editor.id) });
  t.deepEqual(((await resources.json()) as LookupResourcesBody).resource_ids, [chatbot.id]);

  const subjects = await post(key, 'lookup-subjects', { resource: chatbot, permission: 'edit', subject_type: 'user' });
  t.true(((await subjects.json()) as LookupSubjectsBody).subject_ids.includes(editor.id));
});

test('"read_your_writes" may also be asked for by name; minimize_latency and at_least_as_fresh still work', async (t) => {
  const { owner, key, chatbot } = await workspaceWithChatbot();
  const body = { resource: chatbot, permission: 'view', subject: user(owner.id) };
  const named = await post(key, 'check', { ...body, consistency: 'read_your_writes' });
  const { allowed: granted, checked_at: token } = (await named.json()) as CheckBody;
  t.true(granted);
  // minimize_latency may answer from a revision before the registration: only its shape is sure.
  const loose = await post(key, 'check', { ...body, consistency: 'minimize_latency' });
  t.is(loose.status, 200);
  t.is(typeof ((await loose.json()) as CheckBody).allowed, 'boolean');
  t.true(await allowed(service, { ...body, consistency: { at_least_as_fresh: token } }, key), 'at least as fresh as a check that saw it');
});

test('a check sent right after boot, with no consistency or with minimize_latency, answers 200', async (t) => {
  const booted = await startTestService({ environment });
  t.teardown(() => booted.stop());
  const { key } = await makeServiceAccount(booted);
  for (const consistency of [undefined, 'minimize_latency']) {
    const response = await booted.send(
      'POST',
      '/api/v1/authz/check',
      { resource: { type: 'organization', id: '00000000-0000-4000-8000-000000000001' }, permission: 'view', subject: user('u1'), consistency },
      bearer(key),
    );
    t.is(response.status, 200, String(consistency));
    t.false(((await response.json()) as CheckBody).allowed);
  }
});
