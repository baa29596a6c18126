import test from 'ava';
import { decodeJwt } from 'jose';
import { reconcile, type Drift } from '../../src/authz/reconcile.ts';
import { CustomRoleAssignment } from '../../src/db/entities/index.ts';
import { FeedReader } from '../support/events.ts';
import {
  addToWorkspace,
  as,
  bearer,
  giveCustomRole,
  makeCustomRole,
  makeServiceAccount,
  makeTeam,
  makeWorkspaceTenant,

  type WorkspaceTenant,
} from '../support/factories.ts';
import type { CheckBody, SwitchedBody } from '../support/responses.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Who holds a custom role, and everywhere it shows: a team's members (nested teams included), a
 * member in one workspace only, the token's permissions, the member list, explain, the audit log
 * and the events, and removals that take every binding with them before they answer.
 */

const service = useTestService(test);

const billing = (tenant: WorkspaceTenant) => `/api/v1/orgs/${tenant.organizationId}/billing`;
const workspace = (id: string) => `/api/v1/workspaces/${id}`;

test('a team holding a role gives it to every member, nested teams included; taking it away is in force on return', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const [outer, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, outer, { teamId: inner }));
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  const roleId = await makeCustomRole(service, tenant, ['org:billing'], 'Billing manager');
  t.is((await as(service, tenant.member).get(billing(tenant))).status, 403);
  const given = await as(service, tenant.owner).send('PUT', `/api/v1/teams/${outer}/roles/${roleId}`);
  t.is(given.status, 200);
  t.like(await given.json(), { holder: { type: 'team', id: outer }, workspace_id: null });
  t.is((await as(service, tenant.member).get(billing(tenant))).status, 200, 'a member of a nested team holds it');
  t.is((await as(service, tenant.editor).get(billing(tenant))).status, 403, 'someone outside the team does not');
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${outer}/roles/${roleId}`)).status, 204);
  t.is((await as(service, tenant.member).get(billing(tenant))).status, 403);
});

test('a role given in one workspace gives its workspace permissions there only, and none of the organization', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const roleId = await makeCustomRole(service, tenant, ['workspace:view', 'workspace:edit', 'org:billing'], 'Editor plus');
  const path = `/api/v1/workspaces/${tenant.spaceId}/members/${tenant.member.id}/roles/${roleId}`;
  const given = await as(service, tenant.owner).send('PUT', path);
  t.is(given.status, 200);
  t.like(await given.json(), { holder: { type: 'user', id: tenant.member.id }, workspace_id: tenant.spaceId });
  t.is((await as(service, tenant.member).get(workspace(tenant.spaceId))).status, 200);
  t.deepEqual(
    ((await (await as(service, tenant.member).get(`${workspace(tenant.spaceId)}/permissions`)).json()) as { permissions: string[] }).permissions,
    ['org:view', 'workspace:view', 'workspace:edit'],
  );
  t.is((await as(service, tenant.member).get(workspace(tenant.workspaceId))).status, 403, 'not in another workspace');
  t.is((await as(service, tenant.member).get(billing(tenant))).status, 403, 'a binding gives no organization permission');
  t.is((await as(service, tenant.owner).send('DELETE', path)).status, 204);
  t.is((await as(service, tenant.member).get(workspace(tenant.spaceId))).status, 403);
});

test("a role across the organization shows in the access token's permissions, on switching context as on the permissions endpoint", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const roleId = await makeCustomRole(service, tenant, ['org:billing', 'workspace:view'], 'Support agent');
  await giveCustomRole(service, tenant, roleId, tenant.member);
  const switched = await as(service, tenant.member).send('POST', '/api/v1/auth/switch-context', { org_id: tenant.organizationId, workspace_id: tenant.spaceId });
  t.is(switched.status, 200);
  const permissions = decodeJwt(((await switched.json()) as SwitchedBody).access_token).permissions as string[];
  t.deepEqual([...permissions].sort(), ['org:billing', 'org:view', 'org:view_workspaces', 'workspace:view']);
  const reported = (await (await as(service, tenant.member).get(`${workspace(tenant.spaceId)}/permissions`)).json()) as { permissions: string[] };
  t.deepEqual(permissions, reported.permissions, 'the token carries what the permissions endpoint reports');
});

test("the member list shows each member's custom roles, across the organization and per workspace", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const [billingRole, editorRole] = [await makeCustomRole(service, tenant, ['org:billing'], 'Billing'), await makeCustomRole(service, tenant, ['workspace:edit'], 'Editor')];
  await giveCustomRole(service, tenant, billingRole, tenant.member);
  await giveCustomRole(service, tenant, editorRole, tenant.member, tenant.spaceId);
  const listed = (await (await as(service, tenant.viewer).get(`/api/v1/orgs/${tenant.organizationId}/members?limit=100`)).json()) as Array<{
    user_id: string;
    custom_roles: Array<{ id: string; name: string; workspace_id: string | null }>;
  }>;
  t.deepEqual(listed.find((member) => member.user_id === tenant.member.id)?.custom_roles, [
    { id: billingRole, name: 'Billing', workspace_id: null },
    { id: editorRole, name: 'Editor', workspace_id: tenant.spaceId },
  ]);
  t.deepEqual(listed.find((member) => member.user_id === tenant.owner.id)?.custom_roles, []);
});

test('explain names the custom role on the path', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const roleId = await makeCustomRole(service, tenant, ['org:billing'], 'Billing manager');
  await giveCustomRole(service, tenant, roleId, tenant.member);
  const { key } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [tenant.organizationId] });
  const body = { resource: { type: 'organization', id: tenant.organizationId }, permission: 'billing', subject: { type: 'user', id: tenant.member.id }, explain: true };
  const response = await service.send('POST', '/api/v1/authz/check', body, bearer(key));
  t.is(response.status, 200, await response.clone().text());
  const checked = (await response.json()) as CheckBody;
  t.true(checked.allowed);
  const steps = checked.explanation?.paths.flatMap((path) => path.steps) ?? [];
  t.like(steps.find((step) => step.type === 'role'), { id: roleId, name: 'Billing manager' });
  const texts = checked.explanation?.paths.map((path) => path.text) ?? [];
  t.true(texts.some((text) => text.includes(`role:${roleId} "Billing manager"`)), JSON.stringify(texts));
});

test('the audit log and the events record a role created, changed, assigned, unassigned and deleted', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const reader = new FeedReader(service, key);
  const owner = as(service, tenant.owner);
  const created = await owner.send('POST', `/api/v1/orgs/${tenant.organizationId}/roles`, { name: 'Billing', permissions: ['org:billing'] });
  const { id: roleId } = (await created.json()) as { id: string };
  await owner.send('PATCH', `/api/v1/roles/${roleId}`, { permissions: ['org:billing', 'org:audit_log'] });
  await owner.send('PUT', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}/roles/${roleId}`);
  await owner.send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}/roles/${roleId}`);
  t.is((await owner.send('DELETE', `/api/v1/roles/${roleId}`)).status, 204);
  const types = ['organization.role.created', 'organization.role.updated', 'organization.role.assigned', 'organization.role.unassigned', 'organization.role.deleted'];
  const events = await reader.until((read) => types.every((type) => read.some((event) => event.type === type)));
  const roleEvents = events.filter((event) => event.type.startsWith('organization.role.'));
  t.deepEqual(roleEvents.map((event) => event.type), types);
  t.like(roleEvents[1], { data: { object: { type: 'role', id: roleId }, changes: { permissions: { before: ['org:billing'], after: ['org:audit_log', 'org:billing'] } } } });
  t.like(roleEvents[2], { actor: { type: 'user', id: tenant.owner.id }, data: { object: { type: 'user', id: tenant.member.id }, changes: { role_id: { before: null, after: roleId } } } });
  const audit = (await (await owner.get(`/api/v1/orgs/${tenant.organizationId}/audit-events?limit=10`)).json()) as Array<{ action: string }>;
  t.deepEqual(
    audit.map((event) => event.action).filter((action) => action.startsWith('org.role.')).reverse(),
    ['org.role.created', 'org.role.updated', 'org.role.assigned', 'org.role.unassigned', 'org.role.deleted'],
  );
});

test('removing a member takes their custom roles and bindings with them before it answers', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const leaver = await addToWorkspace(service, tenant, tenant.spaceId, 'viewer');
  const [orgRole, workspaceRole] = [await makeCustomRole(service, tenant, ['org:billing']), await makeCustomRole(service, tenant, ['workspace:edit'])];
  await giveCustomRole(service, tenant, orgRole, leaver);
  await giveCustomRole(service, tenant, workspaceRole, leaver, tenant.spaceId);
  const [binding] = await service.orm.em.fork().find(CustomRoleAssignment, { user: leaver.id, workspace: tenant.spaceId });
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${leaver.id}`)).status, 204);
  t.is(await service.orm.em.fork().count(CustomRoleAssignment, { user: leaver.id }), 0);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'role', resourceId: orgRole, relation: 'member' }), []);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'role_binding', resourceId: binding?.id ?? '' }), []);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: tenant.spaceId, relation: 'role_binding' }), []);
});

test('deleting a team or a workspace removes the custom roles held there before it answers', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const teamId = await makeTeam(service, tenant);
  const roleId = await makeCustomRole(service, tenant, ['workspace:view']);
  await seed(service, ({ roleAssignments }) => roleAssignments.assign(tenant.owner.id, roleId, { holder: { teamId }, workspaceId: null }));
  await giveCustomRole(service, tenant, roleId, tenant.member, tenant.spaceId);
  const [binding] = await service.orm.em.fork().find(CustomRoleAssignment, { user: tenant.member.id });
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${teamId}`)).status, 204);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'role', resourceId: roleId, relation: 'member' }), []);
  t.is((await as(service, tenant.owner).send('DELETE', workspace(tenant.spaceId))).status, 204);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'role_binding', resourceId: binding?.id ?? '' }), []);
  t.is(await service.orm.em.fork().count(CustomRoleAssignment, { role: roleId }), 0);
});

test("reconcile finds no drift in an organization's custom roles, and puts back a binding deleted behind the service's back", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const teamId = await makeTeam(service, tenant);
  const roleId = await makeCustomRole(service, tenant, ['org:billing', 'workspace:view']);
  await giveCustomRole(service, tenant, roleId, tenant.member);
  await giveCustomRole(service, tenant, roleId, tenant.viewer, tenant.spaceId);
  await seed(service, ({ roleAssignments }) => roleAssignments.assign(tenant.owner.id, roleId, { holder: { teamId }, workspaceId: null }));
  const [binding] = await service.orm.em.fork().find(CustomRoleAssignment, { user: tenant.viewer.id, workspace: tenant.spaceId });
  const bindingId = binding?.id ?? '';
  const ours = (drift: Drift) =>
    [...drift.missing, ...drift.extra].filter((tuple) => [roleId, bindingId].includes(tuple.resource.id) || [roleId, bindingId].includes(tuple.subject.id));
  t.deepEqual(ours(await reconcile(service.orm, service.spicedb, { fix: false })), []);
  await service.spicedb.deleteRelationships({ resourceType: 'role_binding', resourceId: bindingId });
  t.is(ours(await reconcile(service.orm, service.spicedb, { fix: false })).length, 2, 'the binding\'s role and member are missing');
  await reconcile(service.orm, service.spicedb, { fix: true });
  t.deepEqual(ours(await reconcile(service.orm, service.spicedb, { fix: false })), []);
});
