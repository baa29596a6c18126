import test from 'ava';
import { addToWorkspace, as, makeWorkspaceTenant, makeUser, type WorkspaceTenant } from '../support/factories.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Every workspace endpoint for each role: org owner, org admin, org member without workspace
 * membership, workspace admin/editor/viewer, and a stranger. A refusal is a 403 that changes
 * nothing in Postgres or SpiceDB. Each case gets a fresh tenant.
 */

const service = useTestService(test);

const ROLES = ['owner', 'admin', 'member', 'workspaceAdmin', 'editor', 'viewer', 'stranger'] as const;
type Role = (typeof ROLES)[number];
interface Case {
  name: string;
  call: (tenant: WorkspaceTenant) => Promise<{ method: string; path: string; body?: unknown }>;
  allowed: Partial<Record<Role, number>>;
}

const space = (tenant: WorkspaceTenant) => `/api/v1/workspaces/${tenant.spaceId}`;
const viewers = { owner: 200, admin: 200, workspaceAdmin: 200, editor: 200, viewer: 200 };
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
    allowed: { owner: 200, admin: 200, member: 200, workspaceAdmin: 200, editor: 200, viewer: 200 },
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
      await as(service, t.owner).send('POST', `/api/v1/orgs/${t.organizationId}/members`, { user_id: newcomer.id, role: 'member' });
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
];

for (const { name, call, allowed } of cases) {
  for (const role of ROLES) {
    const expected = allowed[role] ?? 403;
    test(`${name}: ${role} gets ${expected}`, async (t) => {
      const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
      const request = await call(tenant);
      const before = await snapshotOrganization(service, tenant.organizationId);
      const response = await as(service, tenant[role]).send(request.method, request.path, request.body);
      t.is(response.status, expected, await response.clone().text());
      if (expected === 403) {
        t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'a refusal changes nothing');
      }
    });
  }
}
