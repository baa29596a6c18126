import test, { type ExecutionContext } from 'ava';
import { bearer, makeServiceAccount, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import type { CheckBody, LookupResourcesBody } from '../support/responses.ts';
import { seed } from '../support/seeding-services.ts';
import { startTestService, useTestService, type TestService } from '../support/test-service.ts';

/**
 * A lookup cursor serves one caller, for one query, for LOOKUP_CURSOR_TTL_SECONDS from its
 * listing's first page. It carries the snapshot the listing reads, so a cursor that could be
 * forged, replayed or kept would let someone who lost access read what they could see before.
 */

const service = useTestService(test);
// A second service whose listings last three seconds (long enough for two pages under load).
let shortLived: TestService;
test.before(async () => {
  shortLived = await startTestService({ environment: { LOOKUP_CURSOR_TTL_SECONDS: '3' } });
});
test.after.always(async () => {
  await shortLived?.stop();
});

interface Setup {
  tenant: WorkspaceTenant;
  key: string;
  chatbots: string[];
}

/** A workspace tenant whose second workspace holds five chatbots its viewer can view. */
async function setup(on: TestService = service): Promise<Setup> {
  const tenant = await makeWorkspaceTenant(on, { plan: 'pro' });
  const { key } = await makeServiceAccount(on, ['chatbot']);
  const chatbots = ['a', 'b', 'c', 'd', 'e'].map((suffix) => `bot_${tenant.spaceId.slice(0, 8)}_${suffix}`);
  const relationships = chatbots.map((id) => ({ resource: { type: 'chatbot', id }, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } }));
  const registered = await on.send('POST', '/api/v1/authz/relationships', { relationships, on_behalf_of: onBehalfOf(tenant.owner) }, bearer(key));
  if (registered.status !== 200) throw new Error(`registering answered ${registered.status}`);
  return { tenant, key, chatbots };
}

function query(subjectId: string, overrides: Record<string, unknown> = {}) {
  return { resource_type: 'chatbot', permission: 'view', subject: { type: 'user', id: subjectId }, limit: 2, ...overrides };
}

async function lookup(on: TestService, key: string, body: Record<string, unknown>) {
  return on.send('POST', '/api/v1/authz/lookup-resources', body, bearer(key));
}

async function firstCursor(on: TestService, key: string, body: Record<string, unknown>): Promise<string> {
  const response = await lookup(on, key, { ...body, consistency: 'fully_consistent' });
  const { next_cursor: cursor } = (await response.json()) as LookupResourcesBody;
  if (!cursor) throw new Error(`the first page answered ${response.status} with no cursor`);
  return cursor;
}

async function refusedCursor(t: ExecutionContext, response: Response, message: RegExp) {
  t.is(response.status, 422);
  t.is(response.headers.get('content-type'), 'application/problem+json');
  const body = (await response.json()) as { errors: Array<{ field: string; message: string }> };
  t.is(body.errors[0]?.field, 'body.cursor');
  t.regex(body.errors[0]?.message ?? '', message);
}

test('a cursor reveals nothing: neither the snapshot it reads nor the last id', async (t) => {
  const { tenant } = await setup();
  const cursor = await firstCursor(service, tenant.viewer.accessToken, query(tenant.viewer.id));
  const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
  t.false(decoded.includes('bot_'), decoded);
  t.false(decoded.includes('"s"'), decoded);
});

test('a cursor altered anywhere answers 422 naming body.cursor', async (t) => {
  const { tenant } = await setup();
  const cursor = await firstCursor(service, tenant.viewer.accessToken, query(tenant.viewer.id));
  for (const at of [0, 10, Math.floor(cursor.length / 2), cursor.length - 1]) {
    const altered = `${cursor.slice(0, at)}${cursor[at] === 'A' ? 'B' : 'A'}${cursor.slice(at + 1)}`;
    await refusedCursor(t, await lookup(service, tenant.viewer.accessToken, { ...query(tenant.viewer.id), cursor: altered }), /not a cursor this API issued/);
  }
});

test('a removed member cannot read the past with a cursor forged from an old check', async (t) => {
  const { tenant, key } = await setup();
  const viewer = tenant.viewer;
  const check = await service.send(
    'POST',
    '/api/v1/authz/check',
    { resource: { type: 'workspace', id: tenant.spaceId }, permission: 'view', subject: { type: 'user', id: viewer.id } },
    bearer(viewer.accessToken),
  );
  const { checked_at: checkedAt } = (await check.json()) as CheckBody;
  await seed(service, ({ workspaceMembers }) => workspaceMembers.remove(tenant.owner.id, tenant.spaceId, viewer.id));
  const fresh = await lookup(service, key, { ...query(viewer.id), consistency: 'fully_consistent' });
  t.deepEqual(((await fresh.json()) as LookupResourcesBody).resource_ids.filter((id) => id.startsWith(`bot_${tenant.spaceId.slice(0, 8)}`)), []);
  const raw = checkedAt.slice(0, checkedAt.lastIndexOf('.'));
  for (const snapshot of [checkedAt, raw]) {
    for (const after of ['', 'a', 'bot_']) {
      const forged = Buffer.from(JSON.stringify({ s: snapshot, a: after })).toString('base64url');
      for (const caller of [viewer.accessToken, key]) {
        await refusedCursor(t, await lookup(service, caller, { ...query(viewer.id), cursor: forged }), /not a cursor this API issued/);
      }
    }
  }
});

test('a cursor replayed by another caller answers 422', async (t) => {
  const { tenant, key } = await setup();
  const other = await makeServiceAccount(service, ['chatbot']);
  const viewers = await firstCursor(service, tenant.viewer.accessToken, query(tenant.viewer.id));
  const services = await firstCursor(service, key, query(tenant.viewer.id));
  await refusedCursor(t, await lookup(service, key, { ...query(tenant.viewer.id), cursor: viewers }), /not a cursor this API issued/);
  await refusedCursor(t, await lookup(service, other.key, { ...query(tenant.viewer.id), cursor: services }), /not a cursor this API issued/);
  await refusedCursor(t, await lookup(service, tenant.viewer.accessToken, { ...query(tenant.viewer.id), cursor: services }), /not a cursor this API issued/);
  t.is((await lookup(service, key, { ...query(tenant.viewer.id), cursor: services })).status, 200, 'its own caller continues');
});

test('a cursor replayed for another query answers 422', async (t) => {
  const { tenant, key } = await setup();
  const cursor = await firstCursor(service, key, query(tenant.viewer.id));
  for (const changed of [{ permission: 'edit' }, { resource_type: 'knowledge_base' }, { subject: { type: 'user', id: tenant.editor.id } }]) {
    await refusedCursor(t, await lookup(service, key, { ...query(tenant.viewer.id, changed), cursor }), /not a cursor this API issued/);
  }
  t.is((await lookup(service, key, { ...query(tenant.viewer.id, { permission: 'chatbot:view', limit: 1 }), cursor })).status, 200, 'the same query, named otherwise');
});

test('a listing ends LOOKUP_CURSOR_TTL_SECONDS after its first page, however quickly later pages came', async (t) => {
  const { tenant } = await setup(shortLived);
  const viewer = tenant.viewer.accessToken;
  const first = await firstCursor(shortLived, viewer, query(tenant.viewer.id));
  // The listing's end was set while the first page was answered: by now at the latest.
  const firstAnswered = Date.now();
  const second = await lookup(shortLived, viewer, { ...query(tenant.viewer.id), cursor: first });
  t.is(second.status, 200);
  const { next_cursor: later } = (await second.json()) as LookupResourcesBody;
  t.truthy(later);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstAnswered + 3_100 - Date.now())));
  for (const cursor of [first, later ?? '']) {
    await refusedCursor(t, await lookup(shortLived, viewer, { ...query(tenant.viewer.id), cursor }), /expired/);
  }
  t.is((await lookup(shortLived, viewer, query(tenant.viewer.id))).status, 200, 'a new listing starts afresh');
});
