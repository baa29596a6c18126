import test from 'ava';
import { as, bearer, joinByConsent, makeServiceAccount, onBehalfOf, signUp } from '../support/factories.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(async () => {
  await service?.stop();
});

const WRITE_METHODS = new Set(['post', 'patch', 'put', 'delete']);
const WRITE_PATHS = /^\/api\/v1\/(orgs|workspaces|authz\/relationships)/;

test('every tenant write answers a ZedToken header, also one that changes no relationship', async (t) => {
  const [owner, invitee, proposed] = [await signUp(service), await signUp(service), await signUp(service)];
  const owned = as(service, owner);
  const org = `/api/v1/orgs/${owner.organizationId}`;
  const joined = await joinByConsent(service, owner, owner.organizationId, invitee);
  t.true(joined.ok);
  t.truthy(joined.headers.get('zedtoken'), 'accepting a proposed membership');
  const writes: Array<[string, string, unknown?]> = [
    ['PATCH', org, { name: 'Renamed' }],
    ['PATCH', `${org}/billing`, { billing_email: 'billing@example.com' }],
    ['POST', `${org}/members`, { user_id: proposed.id, role: 'member' }],
    ['PATCH', `${org}/members/${invitee.id}`, { role: 'admin' }],
    ['PATCH', `/api/v1/workspaces/${owner.workspaceId}`, { description: 'the first one' }],
    ['PATCH', `/api/v1/workspaces/${owner.workspaceId}/members/${invitee.id}`, { role: 'editor' }],
    ['POST', '/api/v1/orgs/', { name: 'Second' }],
  ];
  for (const [method, path, body] of writes) {
    const response = await owned.send(method, path, body);
    t.true(response.ok, `${method} ${path} answered ${response.status}`);
    t.truthy(response.headers.get('zedtoken'), `${method} ${path}`);
  }
});

test('POST and DELETE /authz/relationships answer the ZedToken in the header and as written_at', async (t) => {
  const owner = await signUp(service);
  const { key } = await makeServiceAccount(service);
  const relationships = [
    { resource: { type: 'chatbot', id: 'zed_token_bot' }, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } },
  ];
  for (const method of ['POST', 'DELETE']) {
    const response = await service.send(method, '/api/v1/authz/relationships', { relationships, on_behalf_of: onBehalfOf(owner) }, bearer(key));
    t.is(response.status, 200);
    const { written_at: writtenAt } = (await response.json()) as { written_at: string };
    t.truthy(writtenAt);
    t.is(response.headers.get('zedtoken'), writtenAt);
  }
});

test('the OpenAPI document names the ZedToken header on every tenant and relationship write', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
  };
  let writes = 0;
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!WRITE_PATHS.test(path)) continue;
    for (const [method, operation] of Object.entries(operations)) {
      if (!WRITE_METHODS.has(method)) continue;
      writes++;
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))?.[1];
      t.truthy(success?.headers?.ZedToken, `${method.toUpperCase()} ${path}`);
    }
  }
  t.true(writes >= 15);
});
