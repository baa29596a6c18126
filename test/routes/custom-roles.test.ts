import test from 'ava';
import { CustomRole } from '../../src/db/entities/index.ts';
import { as, giveCustomRole, makeCustomRole, makeTenant, uniqueName, type Tenant } from '../support/factories.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/** Custom roles (issue 34): defined from the catalogue, data in the graph, reaching their holders. */

const service = useTestService(test, {
  environment: {
    PLAN_LIMITS: JSON.stringify({
      free: { members: 20, workspaces: 5, custom_roles: 3, custom_roles_per_member: 2 },
      pro: { members: 50, workspaces: 20 },
      enterprise: { members: null, workspaces: null },
    }),
  },
});

const rolesOf = (organizationId: string) => `/api/v1/orgs/${organizationId}/roles`;
const memberRole = (tenant: Tenant, userId: string, roleId: string) => `/api/v1/orgs/${tenant.organizationId}/members/${userId}/roles/${roleId}`;
const roleTuples = async (roleId: string) =>
  (await service.spicedb.readRelationships({ resourceType: 'role', resourceId: roleId })).map((tuple) => `${tuple.relation}@${tuple.subject.type}:${tuple.subject.id}`).sort();

interface RoleBody {
  id: string;
  organization_id: string;
  name: string;
  description: string | null;
  permissions: string[];
}

interface Problem {
  status: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

test('the catalogue lists what a role may grant, each with a description, and never what only the owner holds', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.member).get(`${rolesOf(tenant.organizationId)}/catalogue`);
  t.is(response.status, 200);
  const catalogue = (await response.json()) as Array<{ name: string; description: string }>;
  const names = catalogue.map((entry) => entry.name);
  t.true(names.includes('org:billing') && names.includes('org:audit_log') && names.includes('workspace:view') && names.includes('org:manage_roles'));
  for (const ownerOnly of ['org:delete', 'org:billing_update', 'org:transfer_ownership']) t.false(names.includes(ownerOnly), ownerOnly);
  t.true(catalogue.every((entry) => entry.description.length > 0));
  t.is((await as(service, tenant.stranger).get(`${rolesOf(tenant.organizationId)}/catalogue`)).status, 403);
});

test('an admin defines a "billing manager": 201, its row, and its tuples in the graph (no schema write)', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('POST', rolesOf(tenant.organizationId), {
    name: 'Billing manager',
    description: 'Billing and the audit log, nothing else',
    permissions: ['org:billing', 'org:audit_log', 'org:billing'],
  });
  t.is(response.status, 201);
  t.truthy(response.headers.get('zedtoken'));
  const body = (await response.json()) as RoleBody;
  t.like(body, { organization_id: tenant.organizationId, name: 'Billing manager', permissions: ['org:audit_log', 'org:billing'] });
  t.deepEqual((await service.orm.em.fork().findOneOrFail(CustomRole, { id: body.id })).permissions, ['org:audit_log', 'org:billing']);
  t.deepEqual(await roleTuples(body.id), ['grants_audit_log@user:*', 'grants_billing@user:*', `organization@organization:${tenant.organizationId}`]);
  t.like(await (await as(service, tenant.member).get(`/api/v1/roles/${body.id}`)).json(), { name: 'Billing manager' });
  t.deepEqual(((await (await as(service, tenant.member).get(rolesOf(tenant.organizationId))).json()) as RoleBody[]).map((role) => role.id), [body.id]);
});

test('a member holding the billing manager role reads billing and the audit log, and nothing else; taking it away is in force on return', async (t) => {
  const tenant = await makeTenant(service);
  const roleId = await makeCustomRole(service, tenant, ['org:billing', 'org:audit_log'], 'Billing manager');
  const member = as(service, tenant.member);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 403);
  const given = await as(service, tenant.owner).send('PUT', memberRole(tenant, tenant.member.id, roleId));
  t.is(given.status, 200);
  t.like(await given.json(), { role_id: roleId, holder: { type: 'user', id: tenant.member.id }, workspace_id: null });
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 200);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/audit-events`)).status, 200);
  t.is((await member.send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { name: 'Renamed' })).status, 403);
  t.is((await member.send('PATCH', `/api/v1/orgs/${tenant.organizationId}/billing`, { billing_email: 'x@example.com' })).status, 403);
  t.is((await as(service, tenant.owner).send('DELETE', memberRole(tenant, tenant.member.id, roleId))).status, 204);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 403);
});

test('editing a role reaches every holder at once; deleting it removes every tuple and assignment before it answers', async (t) => {
  const tenant = await makeTenant(service);
  const roleId = await makeCustomRole(service, tenant, ['org:billing']);
  await giveCustomRole(service, tenant, roleId, tenant.member);
  const member = as(service, tenant.member);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/audit-events`)).status, 403);
  const edited = await as(service, tenant.owner).send('PATCH', `/api/v1/roles/${roleId}`, { permissions: ['org:audit_log'] });
  t.is(edited.status, 200);
  t.deepEqual(((await edited.json()) as RoleBody).permissions, ['org:audit_log']);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 403, 'the permission taken off the role is gone at once');
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/audit-events`)).status, 200);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/roles/${roleId}`)).status, 204);
  t.is((await member.get(`/api/v1/orgs/${tenant.organizationId}/audit-events`)).status, 403);
  t.deepEqual(await roleTuples(roleId), []);
  t.deepEqual(
    await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, relation: 'role' }),
    [],
  );
  t.is((await member.get(`/api/v1/roles/${roleId}`)).status, 403);
});

test('an unknown or owner-only permission answers 422 naming it, and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const before = await snapshotOrganization(service, tenant.organizationId);
  const response = await as(service, tenant.owner).send('POST', rolesOf(tenant.organizationId), {
    name: 'Odd',
    permissions: ['org:billing', 'org:fly', 'org:delete'],
  });
  t.is(response.status, 422);
  t.is(response.headers.get('content-type'), 'application/problem+json');
  const problem = (await response.json()) as Problem;
  t.deepEqual(problem.errors?.map((error) => error.field), ['body.permissions.1', 'body.permissions.2']);
  t.true(problem.errors?.[0]?.message.includes('org:fly'));
  t.true(problem.errors?.[1]?.message.includes('org:delete'));
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('role names are unique within an organization (409)', async (t) => {
  const tenant = await makeTenant(service);
  await makeCustomRole(service, tenant, ['org:billing'], 'Billing');
  t.is((await as(service, tenant.owner).send('POST', rolesOf(tenant.organizationId), { name: 'Billing', permissions: [] })).status, 409);
});

test("past the plan's custom roles per organization, and per member, 402; nothing changes", async (t) => {
  const tenant = await makeTenant(service);
  const roles = [await makeCustomRole(service, tenant, ['org:billing']), await makeCustomRole(service, tenant, ['org:audit_log']), await makeCustomRole(service, tenant, [])];
  const before = await snapshotOrganization(service, tenant.organizationId);
  const fourth = await as(service, tenant.owner).send('POST', rolesOf(tenant.organizationId), { name: uniqueName('role'), permissions: [] });
  t.is(fourth.status, 402);
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
  const [first = '', second = '', third = ''] = roles;
  await giveCustomRole(service, tenant, first, tenant.member);
  await giveCustomRole(service, tenant, second, tenant.member);
  const held = await snapshotOrganization(service, tenant.organizationId);
  t.is((await as(service, tenant.owner).send('PUT', memberRole(tenant, tenant.member.id, third))).status, 402);
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), held);
  t.is((await as(service, tenant.owner).send('PUT', memberRole(tenant, tenant.member.id, first))).status, 200, 'a role held already is no new one');
});

test('a member without org:manage_roles, and a stranger, are refused alike and change nothing', async (t) => {
  const tenant = await makeTenant(service);
  const roleId = await makeCustomRole(service, tenant, ['org:billing']);
  const before = await snapshotOrganization(service, tenant.organizationId);
  for (const user of [tenant.member, tenant.stranger]) {
    const caller = as(service, user);
    t.is((await caller.send('POST', rolesOf(tenant.organizationId), { name: 'Mine', permissions: [] })).status, 403);
    t.is((await caller.send('PATCH', `/api/v1/roles/${roleId}`, { name: 'Mine' })).status, 403);
    t.is((await caller.send('DELETE', `/api/v1/roles/${roleId}`)).status, 403);
    t.is((await caller.send('PUT', memberRole(tenant, user.id, roleId))).status, 403);
  }
  const missing = await as(service, tenant.stranger).send('PATCH', `/api/v1/roles/${crypto.randomUUID()}`, { name: 'Mine' });
  const hidden = await as(service, tenant.stranger).send('PATCH', `/api/v1/roles/${roleId}`, { name: 'Mine' });
  const refusal = async (response: Response) => {
    const { type, status, title, detail } = (await response.json()) as Record<string, unknown>;
    return { type, status, title, detail };
  };
  t.deepEqual(await refusal(missing), await refusal(hidden), 'a missing role and a hidden one answer the very same 403');
  t.is((await as(service, tenant.stranger).get(`/api/v1/roles/${roleId}`)).status, 403);
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('the OpenAPI document describes the custom-role routes', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  t.deepEqual(Object.keys(document.paths['/api/v1/orgs/{org_id}/roles'] ?? {}).sort(), ['get', 'post']);
  t.deepEqual(Object.keys(document.paths['/api/v1/roles/{role_id}'] ?? {}).sort(), ['delete', 'get', 'patch']);
  t.deepEqual(Object.keys(document.paths['/api/v1/orgs/{org_id}/roles/catalogue'] ?? {}), ['get']);
  for (const path of [
    '/api/v1/orgs/{org_id}/members/{user_id}/roles/{role_id}',
    '/api/v1/teams/{team_id}/roles/{role_id}',
    '/api/v1/workspaces/{workspace_id}/members/{user_id}/roles/{role_id}',
  ]) {
    t.deepEqual(Object.keys(document.paths[path] ?? {}).sort(), ['delete', 'put'], path);
  }
});
