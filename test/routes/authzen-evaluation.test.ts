import test from 'ava';
import { as, bearer, makeServiceAccount, makeWorkspaceTenant, makeTeam } from '../support/factories.ts';
import { cacheHits, spicedbCalls } from '../support/metrics.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * OpenID AuthZEN Authorization API 1.0: access evaluation(s) and the PDP metadata. The decisions
 * are /authz/check's; these tests pin the standard's shape around them.
 */

const service = useTestService(test);

type Decision = { decision: boolean; context?: { reasons?: Array<{ text: string }>; error?: { status: number; message: string } } };

const user = (id: string) => ({ type: 'user', id });
const workspace = (id: string) => ({ type: 'workspace', id });

async function evaluate(authorization: Record<string, string>, body: unknown, path = 'evaluation') {
  const response = await service.send('POST', `/access/v1/${path}`, body, authorization);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
}

test('an evaluation answers 200 with a decision, a denial included; actions match permissions in any case, or registry names', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const ask = async (subject: string, action: string) =>
    evaluate(bearer(key), { subject: user(subject), action: { name: action }, resource: workspace(tenant.spaceId) });

  const allowed = await ask(tenant.editor.id, 'EDIT');
  t.is(allowed.status, 200);
  t.regex(allowed.type, /^application\/json/);
  t.deepEqual(allowed.json(), { decision: true });
  t.deepEqual((await ask(tenant.viewer.id, 'edit')).json(), { decision: false }, 'a denial is a 200 too');
  t.deepEqual((await ask(tenant.editor.id, 'workspace:edit')).json(), { decision: true });
  t.deepEqual((await ask(tenant.editor.id, 'chatbot:edit')).json(), { decision: false }, "another type's registry name means nothing here");
});

// Serial: ava runs these before the others, so the service's counters move for them alone.
test.serial('a repeated evaluation is answered from the decision cache, as /authz/check is', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const body = { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: workspace(tenant.spaceId) };
  t.deepEqual((await evaluate(bearer(key), body)).json(), { decision: true });
  const [hits, calls] = [await cacheHits(service), await spicedbCalls(service, 'CheckPermission')];
  t.deepEqual((await evaluate(bearer(key), body)).json(), { decision: true });
  t.is(await cacheHits(service), hits + 1);
  t.is(await spicedbCalls(service, 'CheckPermission'), calls, 'SpiceDB was not asked again');
});

test.serial('evaluations go to SpiceDB in one bulk call', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const [bulk, single] = [await spicedbCalls(service, 'CheckBulkPermissions'), await spicedbCalls(service, 'CheckPermission')];
  const evaluations = [tenant.viewer, tenant.editor, tenant.stranger, tenant.member].map((who) => ({ subject: user(who.id) }));
  const answer = await evaluate(bearer(key), { action: { name: 'edit' }, resource: workspace(tenant.spaceId), evaluations }, 'evaluations');
  t.deepEqual(answer.json(), { evaluations: [{ decision: false }, { decision: true }, { decision: false }, { decision: false }] });
  t.is(await spicedbCalls(service, 'CheckBulkPermissions'), bulk + 1);
  t.is(await spicedbCalls(service, 'CheckPermission'), single);
});

test('unknown types, actions, relations and ids that cannot exist are plain denials, not errors', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const cases = [
    { subject: user(tenant.owner.id), action: { name: 'view' }, resource: { type: 'spaceship', id: '1' } },
    { subject: { type: 'robot', id: 'r2' }, action: { name: 'view' }, resource: workspace(tenant.spaceId) },
    { subject: user(tenant.owner.id), action: { name: 'launch' }, resource: workspace(tenant.spaceId) },
    // `admin` is a relation of workspace, not a permission: never answered.
    { subject: user(tenant.workspaceAdmin.id), action: { name: 'admin' }, resource: workspace(tenant.spaceId) },
    { subject: user('alice@example.com'), action: { name: 'view' }, resource: workspace(tenant.spaceId) },
  ];
  for (const body of cases) {
    const answer = await evaluate(bearer(key), body);
    t.is(answer.status, 200, JSON.stringify(body));
    t.deepEqual(answer.json(), { decision: false });
  }
});

test('unknown request fields and properties are ignored', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const answer = await evaluate(bearer(key), {
    subject: { ...user(tenant.viewer.id), properties: { department: 'Sales' } },
    action: { name: 'view', properties: { method: 'GET' } },
    resource: { ...workspace(tenant.spaceId), properties: { ownerID: 'x' }, extra: 1 },
    context: { time: '1985-10-26T01:22-07:00' },
    novelty: true,
  });
  t.deepEqual(answer.json(), { decision: true });
});

test('a write is seen by the next evaluation without a token; a ZedToken may be passed in context', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const body = { subject: user(tenant.member.id), action: { name: 'view' }, resource: workspace(tenant.spaceId) };
  t.deepEqual((await evaluate(bearer(key), body)).json(), { decision: false });
  const added = await as(service, tenant.owner).send('POST', `/api/v1/workspaces/${tenant.spaceId}/members`, { user_id: tenant.member.id, role: 'viewer' });
  t.is(added.status, 200);
  t.deepEqual((await evaluate(bearer(key), body)).json(), { decision: true }, 'read your writes by default');

  const token = ((await (await service.send('POST', '/api/v1/authz/check', { ...body, permission: 'view', action: undefined }, bearer(key))).json()) as { checked_at: string }).checked_at;
  const atToken = await evaluate(bearer(key), { ...body, context: { consistency: { at_least_as_fresh: token } } });
  t.deepEqual(atToken.json(), { decision: true });
  const forged = await evaluate(bearer(key), { ...body, context: { consistency: { at_least_as_fresh: 'forged' } } });
  t.is(forged.status, 400);
});

test('with context.explain, the decision carries the paths that grant it as reasons', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const team = await makeTeam(service, tenant);
  const owner = as(service, tenant.owner);
  t.is((await owner.send('POST', `/api/v1/teams/${team}/members`, { user_id: tenant.member.id })).status, 201);
  t.is((await owner.send('POST', `/api/v1/workspaces/${tenant.spaceId}/members`, { team_id: team, role: 'viewer' })).status, 200);
  const body = { subject: user(tenant.member.id), action: { name: 'view' }, resource: workspace(tenant.spaceId), context: { explain: true } };

  const answer = (await evaluate(bearer(key), body)).json() as Decision;

  t.true(answer.decision);
  const texts = answer.context?.reasons?.map((reason) => reason.text) ?? [];
  t.true(texts.some((text) => text.includes(`team:${team} (member)`) && text.endsWith(`user:${tenant.member.id}`)), texts.join('\n'));
  const denied = (await evaluate(bearer(key), { ...body, subject: user(tenant.stranger.id) })).json() as Decision;
  t.deepEqual(denied, { decision: false, context: { reasons: [] } });
});

test('evaluations: defaults replaced whole by an item, answers in order, only `decision` on each item', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const answer = await evaluate(
    bearer(key),
    {
      subject: user(tenant.editor.id),
      action: { name: 'edit' },
      resource: workspace(tenant.spaceId),
      evaluations: [
        {},
        { subject: user(tenant.viewer.id) },
        { action: { name: 'VIEW' }, subject: user(tenant.viewer.id) },
        { resource: { type: 'organization', id: tenant.organizationId }, action: { name: 'org:delete' } },
        { resource: { type: 'spaceship', id: '1' } },
      ],
    },
    'evaluations',
  );
  t.is(answer.status, 200);
  t.is(answer.text, JSON.stringify({ evaluations: [{ decision: true }, { decision: false }, { decision: true }, { decision: false }, { decision: false }] }));
});

test('evaluations: without items the request is one evaluation; an item lacking an entity with no default is a 400', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const single = { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: workspace(tenant.spaceId) };
  t.deepEqual((await evaluate(bearer(key), single, 'evaluations')).json(), { decision: true });
  t.deepEqual((await evaluate(bearer(key), { ...single, evaluations: [] }, 'evaluations')).json(), { decision: true });
  const missing = await evaluate(bearer(key), { subject: single.subject, evaluations: [{ action: single.action }] }, 'evaluations');
  t.is(missing.status, 400);
  t.regex(missing.text, /resource/);
});

test('the short-circuit semantics answer up to the deciding item; an unknown semantic is a 400', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const items = [tenant.viewer, tenant.stranger, tenant.editor].map((who) => ({ subject: user(who.id) }));
  const ask = (semantic: string) =>
    evaluate(bearer(key), { action: { name: 'view' }, resource: workspace(tenant.spaceId), evaluations: items, options: { evaluations_semantic: semantic } }, 'evaluations');

  t.deepEqual((await ask('execute_all')).json(), { evaluations: [{ decision: true }, { decision: false }, { decision: true }] });
  t.deepEqual((await ask('deny_on_first_deny')).json(), { evaluations: [{ decision: true }, { decision: false }] });
  t.deepEqual((await ask('permit_on_first_permit')).json(), { evaluations: [{ decision: true }] });
  t.is((await ask('maybe')).status, 400);
});

test('an item the caller may not ask about is false with its error in its context; the others are answered', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const elsewhere = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [tenant.organizationId] });
  const answer = (await evaluate(
    bearer(key),
    {
      action: { name: 'view' },
      evaluations: [
        { subject: user(tenant.viewer.id), resource: workspace(tenant.spaceId) },
        { subject: user(elsewhere.viewer.id), resource: workspace(elsewhere.spaceId) },
        { subject: user(elsewhere.viewer.id), resource: workspace('00000000-0000-4000-8000-000000000000') },
      ],
    },
    'evaluations',
  )).json() as { evaluations: Decision[] };
  t.deepEqual(answer.evaluations[0], { decision: true });
  t.is(answer.evaluations[1]?.context?.error?.status, 403);
  t.deepEqual(answer.evaluations[2], answer.evaluations[1], 'a hidden and a missing workspace answer alike');
});

test('more than 1,000 evaluations is a 413', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const evaluations = Array.from({ length: 1001 }, () => ({ resource: workspace(tenant.spaceId) }));
  const answer = await evaluate(bearer(key), { subject: user(tenant.viewer.id), action: { name: 'view' }, evaluations }, 'evaluations');
  t.is(answer.status, 413);
});

test('malformed JSON, a missing or mistyped field: 400 with an error message string, never a problem document', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const malformed = await service.request('/access/v1/evaluation', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(key) },
    body: '{"subject": ',
  });
  t.is(malformed.status, 400);
  t.regex(malformed.headers.get('content-type') ?? '', /^text\/plain/);
  t.true((await malformed.text()).length > 0);
  const cases = [
    { action: { name: 'view' }, resource: workspace(tenant.spaceId) },
    { subject: user(tenant.viewer.id), resource: workspace(tenant.spaceId) },
    { subject: { type: 'user' }, action: { name: 'view' }, resource: workspace(tenant.spaceId) },
    { subject: user(tenant.viewer.id), action: { name: 7 }, resource: workspace(tenant.spaceId) },
    [],
  ];
  for (const body of cases) {
    const answer = await evaluate(bearer(key), body);
    t.is(answer.status, 400, JSON.stringify(body));
    t.regex(answer.type, /^text\/plain/);
  }
});

test('who may ask: a key with or without Bearer, a user about itself only; none or a bad one is a 401', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const body = { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: workspace(tenant.spaceId) };

  t.deepEqual((await evaluate({ Authorization: key }, body)).json(), { decision: true }, 'the bare key, as PEPs send a header value');
  t.deepEqual((await evaluate(bearer(tenant.viewer.accessToken), body)).json(), { decision: true });
  t.is((await evaluate(bearer(tenant.editor.accessToken), body)).status, 403, "a user's token asks about that user only");

  const none = await evaluate({}, body);
  t.is(none.status, 401);
  t.regex(none.type, /^text\/plain/);
  t.is((await evaluate({ Authorization: 'tak_not-a-key' }, body)).status, 401);
  t.is((await evaluate(bearer('tak_not-a-key'), body)).status, 401);
});

test("a stranger's key learns nothing: a hidden and a missing resource answer the same 403", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const elsewhere = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [elsewhere.organizationId] });
  const ask = (resource: { type: string; id: string }) => evaluate(bearer(key), { subject: user(tenant.owner.id), action: { name: 'view' }, resource });
  const hidden = await ask(workspace(tenant.spaceId));
  const missing = await ask(workspace('00000000-0000-4000-8000-000000000000'));
  t.is(hidden.status, 403);
  t.is(missing.status, 403);
  t.is(hidden.text, missing.text);
});

test('X-Request-ID is echoed, on answers and on errors', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const id = 'bfe9eb29-ab87:4ca3/be83';
  const body = { subject: user(tenant.viewer.id), action: { name: 'view' }, resource: workspace(tenant.spaceId) };
  const ok = await service.send('POST', '/access/v1/evaluation', body, { ...bearer(key), 'X-Request-ID': id });
  t.is(ok.headers.get('x-request-id'), id);
  const refused = await service.send('POST', '/access/v1/evaluation', body, { 'X-Request-ID': id });
  t.is(refused.status, 401);
  t.is(refused.headers.get('x-request-id'), id);
});

test('the metadata names the PDP by its base URL and every endpoint under it', async (t) => {
  const response = await service.request('/.well-known/authzen-configuration');
  t.is(response.status, 200);
  const metadata = (await response.json()) as Record<string, string>;
  const base = metadata.policy_decision_point ?? '';
  t.is(new URL(base).port, new URL(service.url).port, 'the base URL the metadata was fetched from');
  t.deepEqual(metadata, {
    policy_decision_point: base,
    access_evaluation_endpoint: `${base}/access/v1/evaluation`,
    access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    search_subject_endpoint: `${base}/access/v1/search/subject`,
    search_resource_endpoint: `${base}/access/v1/search/resource`,
    search_action_endpoint: `${base}/access/v1/search/action`,
  });
  type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };
  const document = (await (await service.request('/openapi.json')).json()) as { paths: Record<string, Record<string, Operation>> };
  t.truthy(document.paths['/.well-known/authzen-configuration']?.get);
  for (const path of Object.values(metadata).slice(1).map((url) => new URL(url).pathname)) {
    const responses = document.paths[path]?.post?.responses ?? {};
    t.truthy(responses['200'], `${path} is in the OpenAPI document`);
    t.truthy(responses['400']?.content?.['text/plain'], `${path} answers errors as AuthZEN's message string`);
    t.falsy(responses['422'], `${path} answers no 422`);
  }
});
