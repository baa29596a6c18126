import test from 'ava';
import { as, makeTeam, makeTenant, makeUser, type SignedUpUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * A stranger cannot tell an organization, workspace or team that exists from an id that names
 * nothing: on every route that takes one, both answer the very same 403 (status, type, title,
 * detail), and the existing one is left unchanged.
 */

const service = useTestService(test);

const UNKNOWN = '00000000-0000-4000-8000-00000000beef';

interface Route {
  method: string;
  path: (id: string, member: string) => string;
  body?: (member: string) => unknown;
}

const organizationRoutes: Route[] = [
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}` },
  { method: 'PATCH', path: (id) => `/api/v1/orgs/${id}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (id) => `/api/v1/orgs/${id}` },
  { method: 'POST', path: (id) => `/api/v1/orgs/${id}/members`, body: (member) => ({ user_id: member, role: 'admin' }) },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/members` },
  { method: 'PATCH', path: (id, member) => `/api/v1/orgs/${id}/members/${member}`, body: () => ({ role: 'admin' }) },
  { method: 'DELETE', path: (id, member) => `/api/v1/orgs/${id}/members/${member}` },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/billing` },
  { method: 'PATCH', path: (id) => `/api/v1/orgs/${id}/billing`, body: () => ({ billing_email: 'finance@example.com' }) },
  { method: 'POST', path: (id) => `/api/v1/orgs/${id}/transfer-ownership`, body: (member) => ({ user_id: member }) },
  { method: 'POST', path: (id) => `/api/v1/orgs/${id}/workspaces`, body: () => ({ name: 'Planted' }) },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/workspaces` },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/audit-events` },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/audit-events/export` },
  { method: 'POST', path: (id) => `/api/v1/orgs/${id}/teams`, body: () => ({ name: 'Planted' }) },
  { method: 'GET', path: (id) => `/api/v1/orgs/${id}/teams` },
];

const workspaceRoutes: Route[] = [
  { method: 'GET', path: (id) => `/api/v1/workspaces/${id}` },
  { method: 'PATCH', path: (id) => `/api/v1/workspaces/${id}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (id) => `/api/v1/workspaces/${id}` },
  { method: 'POST', path: (id) => `/api/v1/workspaces/${id}/members`, body: (member) => ({ user_id: member, role: 'admin' }) },
  { method: 'GET', path: (id) => `/api/v1/workspaces/${id}/members` },
  { method: 'PATCH', path: (id, member) => `/api/v1/workspaces/${id}/members/${member}`, body: () => ({ role: 'admin' }) },
  { method: 'DELETE', path: (id, member) => `/api/v1/workspaces/${id}/members/${member}` },
  { method: 'GET', path: (id) => `/api/v1/workspaces/${id}/permissions` },
];

const teamRoutes: Route[] = [
  { method: 'GET', path: (id) => `/api/v1/teams/${id}` },
  { method: 'PATCH', path: (id) => `/api/v1/teams/${id}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (id) => `/api/v1/teams/${id}` },
  { method: 'POST', path: (id) => `/api/v1/teams/${id}/members`, body: (member) => ({ user_id: member }) },
  { method: 'GET', path: (id) => `/api/v1/teams/${id}/members` },
  { method: 'DELETE', path: (id, member) => `/api/v1/teams/${id}/members/${member}` },
];

async function problemOf(stranger: SignedUpUser, route: Route, id: string, member: string) {
  const response = await as(service, stranger).send(route.method, route.path(id, member), route.body?.(member));
  const { type, title, status, detail } = (await response.json()) as Record<string, unknown>;
  return { httpStatus: response.status, type, title, status, detail };
}

const kinds = [['organization', organizationRoutes], ['workspace', workspaceRoutes], ['team', teamRoutes]] as const;
for (const [kind, routes] of kinds) {
  for (const route of routes) {
    const name = route.path(`{${kind}_id}`, '{user_id}');
    test(`${route.method} ${name}: an existing ${kind} the caller cannot see and an unknown id answer the same 403`, async (t) => {
      const tenant = await makeTenant(service);
      const stranger = await makeUser(service);
      const teamId = await makeTeam(service, tenant);
      const existing = { organization: tenant.organizationId, workspace: tenant.workspaceId, team: teamId }[kind];
      // A member of the workspace and the team too, so member routes reach an existing membership.
      await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: tenant.member.id }));
      await as(service, tenant.owner).send('POST', `/api/v1/workspaces/${tenant.workspaceId}/members`, { user_id: tenant.member.id, role: 'viewer' });
      const before = await snapshotOrganization(service, tenant.organizationId);

      const hidden = await problemOf(stranger, route, existing, tenant.member.id);
      const missing = await problemOf(stranger, route, UNKNOWN, tenant.member.id);
      t.is(hidden.httpStatus, 403);
      t.deepEqual(hidden, missing);
      t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'the stranger changed nothing');
    });
  }
}
