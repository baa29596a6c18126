import test from 'ava';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { as, makeTeam, makeTenant, makeUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Every team endpoint for each role: org owner, org admin, org member, and a stranger. A refusal
 * is a 403 that changes nothing in Postgres or SpiceDB. Each case gets a fresh tenant.
 */

const service = useTestService(test);

const ROLES = ['owner', 'admin', 'member', 'stranger'] as const;
type Role = (typeof ROLES)[number];
interface TeamTenant extends Tenant {
  teamId: string;
}
interface Case {
  name: string;
  call: (tenant: TeamTenant) => Promise<{ method: string; path: string; body?: unknown }>;
  allowed: Partial<Record<Role, number>>;
}

const team = (tenant: TeamTenant) => `/api/v1/teams/${tenant.teamId}`;
const orgMembers = { owner: 200, admin: 200, member: 200 };

const cases: Case[] = [
  {
    name: 'POST /orgs/{id}/teams',
    call: async (t) => ({ method: 'POST', path: `/api/v1/orgs/${t.organizationId}/teams`, body: { name: 'New' } }),
    allowed: { owner: 201, admin: 201 },
  },
  { name: 'GET /orgs/{id}/teams', call: async (t) => ({ method: 'GET', path: `/api/v1/orgs/${t.organizationId}/teams` }), allowed: orgMembers },
  { name: 'GET /teams/{id}', call: async (t) => ({ method: 'GET', path: team(t) }), allowed: orgMembers },
  {
    name: 'PATCH /teams/{id}',
    call: async (t) => ({ method: 'PATCH', path: team(t), body: { name: 'Renamed' } }),
    allowed: { owner: 200, admin: 200 },
  },
  { name: 'DELETE /teams/{id}', call: async (t) => ({ method: 'DELETE', path: team(t) }), allowed: { owner: 204, admin: 204 } },
  {
    name: 'POST /teams/{id}/members',
    call: async (t) => ({ method: 'POST', path: `${team(t)}/members`, body: { user_id: t.member.id } }),
    allowed: { owner: 201, admin: 201 },
  },
  { name: 'GET /teams/{id}/members', call: async (t) => ({ method: 'GET', path: `${team(t)}/members` }), allowed: orgMembers },
  {
    name: 'DELETE /teams/{id}/members/{member_id}',
    call: async (t) => {
      const newcomer = await makeUser(service);
      await seed(service, ({ members }) => members.add(OPERATOR, t.organizationId, newcomer.id, 'member'));
      await seed(service, ({ teamMembers }) => teamMembers.add(t.owner.id, t.teamId, { userId: newcomer.id }));
      return { method: 'DELETE', path: `${team(t)}/members/${newcomer.id}` };
    },
    allowed: { owner: 204, admin: 204 },
  },
];

for (const { name, call, allowed } of cases) {
  for (const role of ROLES) {
    const expected = allowed[role] ?? 403;
    test(`${name}: ${role} gets ${expected}`, async (t) => {
      const tenant = await makeTenant(service);
      const teamTenant = { ...tenant, teamId: await makeTeam(service, tenant) };
      const request = await call(teamTenant);
      const before = await snapshotOrganization(service, tenant.organizationId);
      const response = await as(service, tenant[role]).send(request.method, request.path, request.body);
      t.is(response.status, expected, await response.clone().text());
      if (expected === 403) {
        t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'a refusal changes nothing');
      }
    });
  }
}
