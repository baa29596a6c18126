import test from 'ava';
import { as, bearer, makeServiceAccount, makeTenant, onBehalfOf, type Tenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

/** `limit` is a whole number in plain decimal digits on every list: what Number() also reads (hex, exponents, spaces) is not. */

const service = useTestService(test);

async function lists(tenant: Tenant): Promise<Array<[string, string]>> {
  const owner = as(service, tenant.owner);
  const team = (await (await owner.send('POST', `/api/v1/orgs/${tenant.organizationId}/teams`, { name: 'Limits' })).json()) as { id: string };
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const chatbot = `bot_limit_${tenant.workspaceId.slice(0, 8)}`;
  const registered = await service.send('PUT', `/api/v1/authz/resources/chatbot/${chatbot}`, { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: onBehalfOf(tenant.owner) }, bearer(key));
  if (registered.status !== 201) throw new Error(`registering answered ${registered.status}`);
  const org = `/api/v1/orgs/${tenant.organizationId}`;
  const user = tenant.owner.accessToken;
  return [
    [user, '/api/v1/orgs'],
    [user, `${org}/members`],
    [user, `${org}/workspaces`],
    [user, `/api/v1/workspaces/${tenant.workspaceId}/members`],
    [user, `${org}/teams`],
    [user, `/api/v1/teams/${team.id}/members`],
    [user, `${org}/invitations`],
    [user, `${org}/audit-events`],
    [user, '/api/v1/auth/me/audit-events'],
    [key, `/api/v1/authz/resources/chatbot/${chatbot}/grants`],
  ];
}

const NOT_A_LIMIT = ['0x10', '1e1', ' 5', '5 ', '+5', '5.0', '5.', '0b11', '0o7', 'Infinity', '1_0', '０５', '-1', '0', '201', '', '00000000005'];

test('limit=0x10, 1e1, " 5" and every other spelling that is not plain decimal answer 422 naming query.limit, on every list', async (t) => {
  const tenant = await makeTenant(service);
  for (const [key, path] of await lists(tenant)) {
    for (const limit of NOT_A_LIMIT) {
      const response = await service.request(`${path}?limit=${encodeURIComponent(limit)}`, { headers: bearer(key) });
      t.is(response.status, 422, `${path}?limit=${JSON.stringify(limit)}`);
      t.is(response.headers.get('content-type'), 'application/problem+json');
      t.like(await response.json(), { errors: [{ field: 'query.limit' }] }, `${path}?limit=${JSON.stringify(limit)}`);
    }
    for (const limit of ['1', '16', '200']) {
      const response = await service.request(`${path}?limit=${limit}`, { headers: bearer(key) });
      t.is(response.status, 200, `${path}?limit=${limit}`);
      t.true(((await response.json()) as unknown[]).length <= Number(limit));
    }
    const twice = await service.request(`${path}?limit=1&limit=2`, { headers: bearer(key) });
    t.is(twice.status, 422, `${path} with limit twice`);
    await twice.arrayBuffer();
  }
});
