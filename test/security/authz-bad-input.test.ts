import test from 'ava';
import { bearer, makeServiceAccount, makeUser, type SignedUpUser } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Whatever a client sends to the authorization API, the answer is a 4xx problem document or a
 * 200, never a 500: including what only SpiceDB can tell is wrong (a token or cursor it cannot
 * decode). The corpus runs against every route, as a user and as a service account.
 */

const service = useTestService(test);
let tenant: SignedUpUser;
let serviceKey: string;
test.before(async () => {
  tenant = await makeUser(service);
  serviceKey = (await makeServiceAccount(service, ['chatbot'])).key;
});

const BAD_TOKENS = ['Gh8KEz', 'garbage', '!!!', 'GhUKEzE3MzI=', '%00', 'a'.repeat(1024)];
const forgedCursor = (snapshot: string) => Buffer.from(JSON.stringify({ s: snapshot, a: 'bot' })).toString('base64url');
const BAD_CURSORS = ['garbage', '!!!', 'Gh8KEz', forgedCursor('garbage'), forgedCursor('Gh8KEz'), forgedCursor(''), Buffer.from('{"s":1}').toString('base64url')];
const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, 1e308, '', ' ', '*', '\u0000', '../../etc', 'ö', '😀', 'a'.repeat(5000), [], {}, [[]], { $gt: '' }];

function organization() {
  return { type: 'organization', id: tenant.organizationId };
}
function self() {
  return { type: 'user', id: tenant.id };
}

/** A valid body for each route, which the corpus then spoils one field at a time. */
function validBodies(): Record<string, Record<string, unknown>> {
  const relationship = { resource: { type: 'chatbot', id: 'bot_corpus' }, relation: 'workspace', subject: { type: 'workspace', id: tenant.workspaceId } };
  return {
    'POST check': { resource: organization(), permission: 'view', subject: self() },
    'POST check-bulk': { items: [{ resource: organization(), permission: 'view', subject: self() }] },
    'POST lookup-resources': { resource_type: 'chatbot', permission: 'view', subject: self(), limit: 10 },
    'POST lookup-subjects': { resource: organization(), permission: 'view', subject_type: 'user' },
    'POST relationships': { relationships: [relationship], on_behalf_of: self() },
    'DELETE relationships': { relationships: [relationship], on_behalf_of: self() },
    'PUT resources/chatbot/bot_corpus': { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: { type: 'user', id: tenant.id } },
    'POST resources/chatbot/bot_corpus/grants': {
      subject: self(),
      role: 'viewer',
      expires_at: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
      on_behalf_of: { type: 'user', id: tenant.id },
    },
    'DELETE resources/chatbot/bot_corpus/grants': { subject: self(), role: 'viewer', on_behalf_of: { type: 'user', id: tenant.id } },
  };
}

function spoiled(body: Record<string, unknown>): unknown[] {
  const variants: unknown[] = [undefined, null, [], 'text', 42, { ...body, unexpected: 1 }];
  for (const key of Object.keys(body)) {
    const { [key]: _removed, ...without } = body;
    variants.push(without);
    for (const value of HOSTILE_VALUES) variants.push({ ...body, [key]: value });
    const nested = body[key];
    if (nested && typeof nested === 'object' && !Array.isArray(nested)) {
      for (const inner of Object.keys(nested)) {
        for (const value of HOSTILE_VALUES) variants.push({ ...body, [key]: { ...nested, [inner]: value } });
      }
    }
  }
  for (const token of BAD_TOKENS) variants.push({ ...body, consistency: { at_least_as_fresh: token } });
  variants.push({ ...body, consistency: 'eventually' }, { ...body, consistency: { at_exact_snapshot: 'x' } });
  return variants;
}

function send(route: string, body: unknown, key: string) {
  const [method = 'POST', path = ''] = route.split(' ');
  return service.request(`/api/v1/authz/${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...bearer(key) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

test('nothing a client can send to any authorization route answers 500', async (t) => {
  const failures: string[] = [];
  for (const key of [serviceKey, tenant.accessToken]) {
    for (const [route, body] of Object.entries(validBodies())) {
      for (const variant of spoiled(body)) {
        const response = await send(route, variant, key);
        if (response.status >= 500 || response.status < 200) failures.push(`${route} ${JSON.stringify(variant)?.slice(0, 200)} → ${response.status}`);
        if (response.status >= 400 && response.headers.get('content-type') !== 'application/problem+json') {
          failures.push(`${route} → ${response.status} without a problem document`);
        }
        await response.arrayBuffer();
      }
    }
  }
  t.deepEqual(failures, []);
});

test('hostile resource paths and on_behalf_of queries answer 4xx, never 500', async (t) => {
  for (const path of ['resources/chatbot/..%2F..', 'resources/user/x', 'resources/chatbot/' + 'a'.repeat(300), 'resources/%00/x', 'resources/chatbot/a%20b']) {
    for (const method of ['GET', 'DELETE']) {
      const response = await send(`${method} ${path}`, undefined, serviceKey);
      t.true(response.status >= 400 && response.status < 500, `${method} ${path} → ${response.status}`);
      await response.arrayBuffer();
    }
  }
  for (const query of ['on_behalf_of=', 'on_behalf_of=user:', 'on_behalf_of=user:not-a-uuid', 'on_behalf_of=group:x', 'on_behalf_of=user:1&on_behalf_of=user:2']) {
    const response = await send(`DELETE resources/chatbot/bot_corpus?${query}`, undefined, serviceKey);
    t.true(response.status >= 400 && response.status < 500, `${query} → ${response.status}`);
    await response.arrayBuffer();
  }
  for (const query of ['limit=0', 'limit=x', 'limit=201', 'cursor=garbage', 'cursor=%00', 'on_behalf_of=user:1']) {
    const response = await send(`GET resources/chatbot/bot_corpus/grants?${query}`, undefined, serviceKey);
    t.true(response.status >= 400 && response.status < 500, `grants ${query} → ${response.status}`);
    await response.arrayBuffer();
  }
});

test('raw bytes that are not a JSON body answer 4xx on every route that takes a body, and never 500 elsewhere', async (t) => {
  const takesBody = new Set(Object.keys(validBodies()));
  for (const route of [...takesBody, 'GET schema', 'GET resources/chatbot/bot_corpus', 'GET resources/chatbot/bot_corpus/grants', 'DELETE resources/chatbot/bot_corpus']) {
    const [method = 'POST', path = ''] = route.split(' ');
    for (const raw of ['{', '{"resource":', '\u0000', '[1,2', 'null', '"x"']) {
      const response = await service.request(`/api/v1/authz/${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...bearer(serviceKey) },
        ...(method !== 'GET' && { body: raw }),
      });
      const refused = takesBody.has(route) ? response.status >= 400 && response.status < 500 : response.status < 500;
      t.true(refused, `${route} ${JSON.stringify(raw)} → ${response.status}`);
      await response.arrayBuffer();
    }
  }
});

test('a malformed at_least_as_fresh ZedToken answers 422 naming it, on checks, bulk checks and lookups', async (t) => {
  const bodies = validBodies();
  for (const route of ['POST check', 'POST check-bulk', 'POST lookup-resources', 'POST lookup-subjects']) {
    for (const token of ['Gh8KEz', 'garbage', '!!!']) {
      const response = await send(route, { ...bodies[route], consistency: { at_least_as_fresh: token } }, serviceKey);
      t.is(response.status, 422, `${route} ${token}`);
      t.like(await response.json(), { errors: [{ field: 'body.consistency.at_least_as_fresh' }] }, `${route} ${token}`);
    }
  }
});

test('a lookup cursor this API did not issue answers 422 naming the cursor', async (t) => {
  for (const cursor of BAD_CURSORS) {
    const response = await send('POST lookup-resources', { ...validBodies()['POST lookup-resources'], cursor }, serviceKey);
    t.is(response.status, 422, cursor);
    t.like(await response.json(), { errors: [{ field: 'body.cursor' }] }, cursor);
  }
});

test('the same relationship listed twice in one write is written once (200)', async (t) => {
  const relationship = { resource: { type: 'chatbot', id: `bot_twice_${tenant.id.slice(0, 8)}` }, relation: 'workspace', subject: { type: 'workspace', id: tenant.workspaceId } };
  const tuples = () => service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: relationship.resource.id });
  t.is((await send('POST relationships', { relationships: [relationship, relationship], on_behalf_of: self() }, serviceKey)).status, 200);
  t.is((await tuples()).length, 1, 'written once');
  t.is((await send('DELETE relationships', { relationships: [relationship, relationship], on_behalf_of: self() }, serviceKey)).status, 200);
  t.deepEqual(await tuples(), []);
});
