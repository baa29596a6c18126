import test from 'ava';
import { Invitation, Organization, OrganizationMembership, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, makeTenant, makeUser } from '../support/factories.ts';
import type { OrganizationBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test, {
  environment: {
    PLAN_LIMITS: JSON.stringify({
      free: { members: 5, workspaces: 3 },
      pro: { members: 6, workspaces: 20 },
      enterprise: { members: null, workspaces: null },
    }),
  },
});

// The plan's acceptance tests, through HTTP.

test('creating an organization answers 200 with its name and billing email; the caller is its owner', async (t) => {
  const user = await makeUser(service);
  const response = await as(service, user).send('POST', '/api/v1/orgs/', { name: 'Acme AI', billing_email: 'ap@acme.test' });
  t.is(response.status, 200);
  const body = (await response.json()) as OrganizationBody;
  t.like(body, { name: 'Acme AI', billing_email: 'ap@acme.test', subscription_tier: 'free', role: 'owner' });
  t.deepEqual(Object.keys(body).sort(), ['billing_email', 'created_at', 'default_workspace_role', 'id', 'name', 'require_mfa', 'role', 'subscription_tier', 'updated_at']);
});

test('a new organization has a Default Workspace administered by its creator, and billing_email defaults to theirs', async (t) => {
  const user = await makeUser(service);
  const body = (await (await as(service, user).send('POST', '/api/v1/orgs', { name: 'Beta' })).json()) as OrganizationBody;
  t.is(body.billing_email, user.email);
  const em = service.orm.em.fork();
  const [workspace] = await em.find(Workspace, { organization: body.id });
  t.is(workspace?.name, 'Default Workspace');
  t.is((await em.findOneOrFail(WorkspaceMembership, { workspace, user: user.id })).role, 'admin');
});

test("the list of organizations holds at least the user's own", async (t) => {
  const user = await makeUser(service);
  const list = (await (await as(service, user).get('/api/v1/orgs/')).json()) as OrganizationBody[];
  t.deepEqual(list.map((organization) => [organization.id, organization.role]), [[user.organizationId, 'owner']]);
});

test('adding a second user answers 200 with role member, pending until they accept', async (t) => {
  const [owner, invitee] = [await makeUser(service), await makeUser(service)];
  const response = await as(service, owner).send('POST', `/api/v1/orgs/${owner.organizationId}/members`, {
    user_id: invitee.id,
    role: 'member',
  });
  t.is(response.status, 200);
  t.like(await response.json(), { organization_id: owner.organizationId, user_id: invitee.id, role: 'member', state: 'pending' });
});

test("a second user reading the first user's organization gets 403", async (t) => {
  const [first, second] = [await makeUser(service), await makeUser(service)];
  t.is((await as(service, second).get(`/api/v1/orgs/${first.organizationId}`)).status, 403);
});

// Behaviour of each endpoint.

test('an organization id that does not exist answers 403, exactly as one the caller cannot see', async (t) => {
  const [user, other] = [await makeUser(service), await makeUser(service)];
  const missing = await as(service, user).get('/api/v1/orgs/00000000-0000-4000-8000-000000000000');
  const hidden = await as(service, user).get(`/api/v1/orgs/${other.organizationId}`);
  t.is(missing.status, 403);
  const [missingBody, hiddenBody] = (await Promise.all([missing.json(), hidden.json()])) as Array<Record<string, unknown>>;
  t.is(missingBody?.detail, hiddenBody?.detail);
});

test('malformed ids in the path answer 422 naming the parameter', async (t) => {
  const user = await makeUser(service);
  const response = await as(service, user).get('/api/v1/orgs/not-a-uuid/members');
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'params.org_id' }] });
  t.is((await as(service, user).send('DELETE', `/api/v1/orgs/${user.organizationId}/members/42`)).status, 422);
});

test('each caller sees their own role in the organization', async (t) => {
  const tenant = await makeTenant(service);
  for (const role of ['owner', 'admin', 'member'] as const) {
    const body = (await (await as(service, tenant[role]).get(`/api/v1/orgs/${tenant.organizationId}`)).json()) as OrganizationBody;
    t.is(body.role, role);
  }
});

test('PATCH changes the given fields only, and rejects unknown or protected fields with 422', async (t) => {
  const user = await makeUser(service);
  const path = `/api/v1/orgs/${user.organizationId}`;
  const renamed = (await (await as(service, user).send('PATCH', path, { name: 'Renamed Inc' })).json()) as OrganizationBody;
  t.like(renamed, { name: 'Renamed Inc', billing_email: user.email });

  for (const field of ['role', 'owner', 'id', 'organization_id', 'created_at']) {
    const response = await as(service, user).send('PATCH', path, { name: 'Hijack', [field]: 'x' });
    t.is(response.status, 422, field);
    t.like(await response.json(), { errors: [{ field: `body.${field}` }] });
  }
  t.is((await service.orm.em.fork().findOneOrFail(Organization, { id: user.organizationId })).name, 'Renamed Inc');
  t.is((await as(service, user).send('PATCH', path, { default_workspace_role: 'admin' })).status, 422);
  t.is((await as(service, user).send('PATCH', path, { name: '' })).status, 422);
});

test('an admin changing the billing email through PATCH /orgs/{id} gets 403: it needs org:billing_update', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, {
    billing_email: 'attacker@example.com',
  });
  t.is(response.status, 403);
  t.is((await service.orm.em.fork().findOneOrFail(Organization, { id: tenant.organizationId })).billingEmail, tenant.owner.email);
});

test('text Postgres cannot store (a NUL character) answers 422, not 500', async (t) => {
  const user = await makeUser(service);
  t.is((await as(service, user).send('PATCH', `/api/v1/orgs/${user.organizationId}`, { name: 'bad\u0000name' })).status, 422);
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: 'x\u0000@example.com', password: 'whatever1' })).status, 422);
});

test('an admin changing the billing email gets 403 and nothing changes, not even the name sent with it', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, {
    name: 'Sneaky',
    billing_email: 'attacker@example.com',
  });
  t.is(response.status, 403);
  const organization = await service.orm.em.fork().findOneOrFail(Organization, { id: tenant.organizationId });
  t.is(organization.billingEmail, tenant.owner.email);
  t.not(organization.name, 'Sneaky');
});

test('billing reports real usage from Postgres and the limits of the plan', async (t) => {
  const tenant = await makeTenant(service);
  const billing = await (await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}/billing`)).json();
  t.deepEqual(billing, {
    subscription_tier: 'free',
    billing_email: tenant.owner.email,
    usage: { members: 3, workspaces: 1 },
    limits: { members: 5, workspaces: 3 },
  });
});

test('the owner changes the billing email; the plan and its limits stay (test/routes/subscription-tier.test.ts)', async (t) => {
  const user = await makeUser(service);
  const response = await as(service, user).send('PATCH', `/api/v1/orgs/${user.organizationId}/billing`, {
    billing_email: 'finance@example.com',
  });
  t.is(response.status, 200);
  t.like(await response.json(), {
    subscription_tier: 'free',
    billing_email: 'finance@example.com',
    limits: { members: 5, workspaces: 3 },
  });
});

test("adding a member beyond the plan's limit answers 402 naming the limit, and adds nobody", async (t) => {
  const tenant = await makeTenant(service);
  const add = async () =>
    as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/members`, {
      user_id: (await makeUser(service)).id,
      role: 'member',
    });
  t.is((await add()).status, 200);
  t.is((await add()).status, 200);
  const refused = await add();
  t.is(refused.status, 402);
  t.regex(((await refused.json()) as { detail: string }).detail, /free plan allows at most 5 members/);
  // Three members and two pending proposals, each holding a seat.
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId }), 3);
  t.is(await service.orm.em.fork().count(Invitation, { organization: tenant.organizationId, state: 'pending' }), 2);
});

test('deleting an organization removes its rows and every tuple of it, its workspaces and their resources', async (t) => {
  const tenant = await makeTenant(service);
  const chatbot = { type: 'chatbot', id: `bot-${tenant.workspaceId}` };
  await service.spicedb.writeRelationships([
    { operation: 'touch', relationship: { resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: tenant.workspaceId } } },
  ]);

  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}`)).status, 204);

  const em = service.orm.em.fork();
  t.is(await em.count(Organization, { id: tenant.organizationId }), 0);
  t.is(await em.count(Workspace, { id: tenant.workspaceId }), 0);
  t.is(await em.count(OrganizationMembership, { organization: tenant.organizationId }), 0);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId }), []);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: tenant.workspaceId }), []);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: chatbot.id }), []);

  for (const role of ['owner', 'admin', 'member'] as const) {
    t.is((await as(service, tenant[role]).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 403);
    const list = (await (await as(service, tenant[role]).get('/api/v1/orgs')).json()) as OrganizationBody[];
    t.false(list.some((organization) => organization.id === tenant.organizationId));
  }
});

test('transferring ownership makes the member the one owner and the old owner an admin, in Postgres and SpiceDB', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/transfer-ownership`, {
    user_id: tenant.member.id,
  });
  t.is(response.status, 200);
  t.is(((await response.json()) as OrganizationBody).role, 'admin', 'the response speaks for the caller, now an admin');

  const owners = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId, role: 'owner' });
  t.deepEqual(owners.map((membership) => membership.user.id), [tenant.member.id]);
  const tuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, relation: 'owner' });
  t.deepEqual(tuples.map((tuple) => tuple.subject.id), [tenant.member.id]);

  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}`)).status, 403, 'the old owner lost org:delete');
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 200);
});

test('ownership moves only to a member (422), and not to the owner (400)', async (t) => {
  const tenant = await makeTenant(service);
  const path = `/api/v1/orgs/${tenant.organizationId}/transfer-ownership`;
  t.is((await as(service, tenant.owner).send('POST', path, { user_id: tenant.stranger.id })).status, 422);
  t.is((await as(service, tenant.owner).send('POST', path, { user_id: tenant.owner.id })).status, 400);
});

test('the organization list pages with limit and an opaque cursor in a Link header', async (t) => {
  const user = await makeUser(service);
  for (const name of ['Second', 'Third', 'Fourth']) {
    await as(service, user).send('POST', '/api/v1/orgs', { name });
  }
  const seen: string[] = [];
  let next: string | null = '/api/v1/orgs?limit=3';
  let pages = 0;
  while (next) {
    const response = await as(service, user).get(next);
    t.is(response.status, 200);
    seen.push(...((await response.json()) as OrganizationBody[]).map((organization) => organization.name));
    next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    pages++;
  }
  t.is(pages, 2);
  t.deepEqual(seen, [`${user.username}'s organization`, 'Second', 'Third', 'Fourth']);
});

test('limit must be 1-200 and the cursor one the API issued, else 422', async (t) => {
  const user = await makeUser(service);
  const outOfRange = Buffer.from('-100000-01-01T00:00:00Z|00000000-0000-4000-8000-000000000000').toString('base64url');
  for (const query of ['limit=1000000', 'limit=0', 'limit=-5', 'limit=ten', 'cursor=garbage', `cursor=${outOfRange}`, 'page=2']) {
    t.is((await as(service, user).get(`/api/v1/orgs?${query}`)).status, 422, query);
  }
});
