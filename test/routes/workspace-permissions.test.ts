import test from 'ava';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import {
  addToWorkspace,
  as,
  joinByConsent,
  makeTeam,
  makeWorkspaceTenant,
  makeUser,
  type SignedUpUser,
  type WorkspaceTenant,
} from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { Slots } from '../support/slots.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Every workspace endpoint for each role: org owner, org admin, org member without workspace
 * membership, workspace admin/editor/viewer, a member of a team that holds the editor role, and
 * a stranger. A refusal is a 403 that changes
 * nothing in Postgres or SpiceDB. Each case gets a fresh tenant.
 */

const service = useTestService(test);

const ROLES = ['owner', 'admin', 'member', 'workspaceAdmin', 'editor', 'viewer', 'teamEditor', 'stranger'] as const;
type Role = (typeof ROLES)[number];
interface TeamWorkspaceTenant extends WorkspaceTenant {
  /** A plain organization member, in a team that holds the editor role on the workspace. */
  teamEditor: SignedUpUser;
  teamId: string;
}
interface Case {
  name: string;
  call: (tenant: TeamWorkspaceTenant) => Promise<{ method: string; path: string; body?: unknown }>;
  allowed: Partial<Record<Role, number>>;
}

async function makeTeamWorkspaceTenant(): Promise<TeamWorkspaceTenant> {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const teamEditor = await makeUser(service);
  await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, teamEditor.id, 'member'));
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: teamEditor.id }));
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.spaceId, { teamId }, 'editor'));
  return { ...tenant, teamEditor, teamId };
}

const space = (tenant: WorkspaceTenant) => `/api/v1/workspaces/${tenant.spaceId}`;
const viewers = { owner: 200, admin: 200, workspaceAdmin: 200, editor: 200, viewer: 200, teamEditor: 200 };
const managers = { owner: 200, admin: 200, workspaceAdmin: 200 };

const cases: Case[] = [
  {
    name: 'POST /orgs/{id}/workspaces',
    call: async (t) => ({ method: 'POST', path: `/api/v1/orgs/${t.organizationId}/workspaces`, body: { name: 'New' } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'GET /orgs/{id}/workspaces',
    call: async (t) => ({ method: 'GET', path: `/api/v1/orgs/${t.organizationId}/workspaces` }),
    allowed: { owner: 200, admin: 200, member: 200, workspaceAdmin: 200, editor: 200, viewer: 200, teamEditor: 200 },
  },
  { name: 'GET /workspaces/{id}', call: async (t) => ({ method: 'GET', path: space(t) }), allowed: viewers },
  {
    name: 'PATCH /workspaces/{id}',
    call: async (t) => ({ method: 'PATCH', path: space(t), body: { name: 'Renamed', description: 'Changed' } }),
    allowed: managers,
  },
  {
    name: 'DELETE /workspaces/{id}',
    call: async (t) => ({ method: 'DELETE', path: space(t) }),
    allowed: { owner: 204, admin: 204, workspaceAdmin: 204 },
  },
  {
    name: 'POST /workspaces/{id}/members',
    call: async (t) => {
      const newcomer = await makeUser(service);
      await joinByConsent(service, t.owner, t.organizationId, newcomer);
      return { method: 'POST', path: `${space(t)}/members`, body: { user_id: newcomer.id, role: 'viewer' } };
    },
    allowed: managers,
  },
  { name: 'GET /workspaces/{id}/members', call: async (t) => ({ method: 'GET', path: `${space(t)}/members` }), allowed: viewers },
  {
    name: 'PATCH /workspaces/{id}/members/{user_id}',
    call: async (t) => ({ method: 'PATCH', path: `${space(t)}/members/${t.viewer.id}`, body: { role: 'editor' } }),
    allowed: managers,
  },
  {
    name: 'DELETE /workspaces/{id}/members/{user_id}',
    call: async (t) => ({
      method: 'DELETE',
      path: `${space(t)}/members/${(await addToWorkspace(service, t, t.spaceId, 'viewer')).id}`,
    }),
    allowed: { owner: 204, admin: 204, workspaceAdmin: 204 },
  },
  { name: 'GET /workspaces/{id}/permissions', call: async (t) => ({ method: 'GET', path: `${space(t)}/permissions` }), allowed: viewers },
  {
    name: 'POST /workspaces/{id}/members (a team)',
    call: async (t) => ({ method: 'POST', path: `${space(t)}/members`, body: { team_id: await makeTeam(service, t), role: 'viewer' } }),
    allowed: managers,
  },
  {
    name: 'PATCH /workspaces/{id}/members/{team_id}',
    call: async (t) => ({ method: 'PATCH', path: `${space(t)}/members/${t.teamId}`, body: { role: 'viewer' } }),
    allowed: managers,
  },
  {
    name: 'DELETE /workspaces/{id}/members/{team_id}',
    call: async (t) => ({ method: 'DELETE', path: `${space(t)}/members/${t.teamId}` }),
    allowed: { owner: 204, admin: 204, workspaceAdmin: 204 },
  },
];

// 104 cases of nine users each: begun all at once on a busy machine, none would finish within
// ava's timeout; a few at a time, they finish steadily.
const inTurn = new Slots(8);

for (const { name, call, allowed } of cases) {
  for (const role of ROLES) {
    const expected = allowed[role] ?? 403;
    test(`${name}: ${role} gets ${expected}`, (t) =>
      inTurn.run(async () => {
        const tenant = await makeTeamWorkspaceTenant();
        const request = await call(tenant);
        const before = await snapshotOrganization(service, tenant.organizationId);
        const response = await as(service, tenant[role]).send(request.method, request.path, request.body);
        t.is(response.status, expected, await response.clone().text());
        if (expected === 403) {
          t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'a refusal changes nothing');
        }
      }));
  }
}
