import test from 'ava';
import { as, joinByConsent, makeTenant, makeUser, type Tenant } from '../support/factories.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Every organization endpoint, for each role: the one allowed answer, and for the others a 403
 * that changes nothing in Postgres or SpiceDB. Each case gets a fresh tenant.
 */

const service = useTestService(test);

type Role = 'owner' | 'admin' | 'member' | 'stranger';
interface Call {
  method: string;
  path: string;
  body?: unknown;
}
interface Case {
  name: string;
  call: (tenant: Tenant) => Promise<Call>;
  allowed: Partial<Record<Role, number>>;
}

const org = (tenant: Tenant) => `/api/v1/orgs/${tenant.organizationId}`;

/** A second plain member, so that removing "a member" is never the caller leaving. */
async function anotherMember(tenant: Tenant): Promise<string> {
  const user = await makeUser(service);
  await joinByConsent(service, tenant.owner, tenant.organizationId, user);
  return user.id;
}

const cases: Case[] = [
  {
    name: 'GET /orgs/{id}/audit-events',
    call: async (t) => ({ method: 'GET', path: `${org(t)}/audit-events` }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'GET /orgs/{id}/audit-events/export',
    call: async (t) => ({ method: 'GET', path: `${org(t)}/audit-events/export` }),
    allowed: { owner: 200, admin: 200 },
  },
  { name: 'GET /orgs/{id}', call: async (t) => ({ method: 'GET', path: org(t) }), allowed: { owner: 200, admin: 200, member: 200 } },
  {
    name: 'PATCH /orgs/{id} (name)',
    call: async (t) => ({ method: 'PATCH', path: org(t), body: { name: 'Renamed' } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'PATCH /orgs/{id} (billing_email)',
    call: async (t) => ({ method: 'PATCH', path: org(t), body: { name: 'Renamed', billing_email: 'finance@example.com' } }),
    allowed: { owner: 200 },
  },
  { name: 'DELETE /orgs/{id}', call: async (t) => ({ method: 'DELETE', path: org(t) }), allowed: { owner: 204 } },
  {
    name: 'POST /orgs/{id}/members',
    call: async (t) => ({ method: 'POST', path: `${org(t)}/members`, body: { user_id: (await makeUser(service)).id, role: 'member' } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'GET /orgs/{id}/members',
    call: async (t) => ({ method: 'GET', path: `${org(t)}/members` }),
    allowed: { owner: 200, admin: 200, member: 200 },
  },
  {
    name: 'PATCH /orgs/{id}/members/{user_id}',
    call: async (t) => ({ method: 'PATCH', path: `${org(t)}/members/${await anotherMember(t)}`, body: { role: 'admin' } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'DELETE /orgs/{id}/members/{user_id}',
    call: async (t) => ({ method: 'DELETE', path: `${org(t)}/members/${await anotherMember(t)}` }),
    allowed: { owner: 204, admin: 204 },
  },
  {
    name: 'GET /orgs/{id}/billing',
    call: async (t) => ({ method: 'GET', path: `${org(t)}/billing` }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'PATCH /orgs/{id}/billing',
    call: async (t) => ({ method: 'PATCH', path: `${org(t)}/billing`, body: { billing_email: 'finance@example.com' } }),
    allowed: { owner: 200 },
  },
  {
    // The billing system's (test/routes/subscription-tier.test.ts): no user's, the owner's included.
    name: 'PUT /orgs/{id}/subscription-tier',
    call: async (t) => ({ method: 'PUT', path: `${org(t)}/subscription-tier`, body: { subscription_tier: 'enterprise' } }),
    allowed: {},
  },
  {
    name: 'POST /orgs/{id}/transfer-ownership',
    call: async (t) => ({ method: 'POST', path: `${org(t)}/transfer-ownership`, body: { user_id: t.member.id } }),
    allowed: { owner: 200 },
  },
];

for (const { name, call, allowed } of cases) {
  for (const role of ['owner', 'admin', 'member', 'stranger'] as const) {
    const expected = allowed[role] ?? 403;
    test(`${name}: ${role} gets ${expected}`, async (t) => {
      const tenant = await makeTenant(service);
      const request = await call(tenant);
      const before = await snapshotOrganization(service, tenant.organizationId);
      const response = await as(service, tenant[role]).send(request.method, request.path, request.body);
      t.is(response.status, expected, await response.clone().text());
      if (expected === 403) {
        t.like(await response.json(), { type: 'urn:tenant-authz:problem:forbidden', status: 403 });
        t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'a refusal changes nothing');
      }
    });
  }
}
