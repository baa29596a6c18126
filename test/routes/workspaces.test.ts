import test from 'ava';
import { Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { addToWorkspace, as, makeWorkspaceTenant, makeUser } from '../support/factories.ts';
import type { WorkspaceBody, WorkspacePermissionsBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const workspacesOf = (organizationId: string) => `/api/v1/orgs/${organizationId}/workspaces`;

test('creating a workspace answers it with the creator as admin, in Postgres and in SpiceDB', async (t) => {
  const user = await makeUser(service);
  const response = await as(service, user).send('POST', workspacesOf(user.organizationId), { name: 'Sales', description: 'Bots for sales' });
  t.is(response.status, 200);
  const body = (await response.json()) as WorkspaceBody;
  t.like(body, { organization_id: user.organizationId, name: 'Sales', description: 'Bots for sales', role: 'admin' });
  t.is((await service.orm.em.fork().findOneOrFail(WorkspaceMembership, { workspace: body.id, user: user.id })).role, 'admin');
  t.is((await as(service, user).get(`/api/v1/workspaces/${body.id}`)).status, 200);
});

test("creating a workspace beyond the plan's limit answers 402 naming the limit", async (t) => {
  const user = await makeUser(service);
  for (const name of ['Two', 'Three']) {
    t.is((await as(service, user).send('POST', workspacesOf(user.organizationId), { name })).status, 200);
  }
  const refused = await as(service, user).send('POST', workspacesOf(user.organizationId), { name: 'Four' });
  t.is(refused.status, 402);
  t.regex(((await refused.json()) as { detail: string }).detail, /at most 3 workspaces/);
  t.is(await service.orm.em.fork().count(Workspace, { organization: user.organizationId }), 3);
});

test('org owners and admins list every workspace; others only those they belong to, each with their role', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const names = async (user: { accessToken: string }) =>
    ((await (await as(service, user).get(workspacesOf(tenant.organizationId))).json()) as WorkspaceBody[]).map(
      (workspace) => [workspace.name, workspace.role],
    );
  t.deepEqual(await names(tenant.owner), [['Default Workspace', 'admin'], ['Support', 'admin']]);
  t.deepEqual(await names(tenant.admin), [['Default Workspace', null], ['Support', null]]);
  t.deepEqual(await names(tenant.editor), [['Support', 'editor']]);
  t.deepEqual(await names(tenant.member), []);
});

test('PATCH renames and re-describes; unknown or protected fields answer 422', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const path = `/api/v1/workspaces/${tenant.spaceId}`;
  const response = await as(service, tenant.workspaceAdmin).send('PATCH', path, { description: null, name: 'Help desk' });
  t.like(await response.json(), { name: 'Help desk', description: null, role: 'admin' });
  for (const field of ['organization_id', 'id', 'role', 'created_at']) {
    t.is((await as(service, tenant.owner).send('PATCH', path, { [field]: 'x' })).status, 422, field);
  }
});

test('deleting a workspace removes its memberships and every tuple of it and of the resources under it', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const chatbot = { type: 'chatbot', id: `bot-${tenant.spaceId}` };
  await service.spicedb.writeRelationships([
    { operation: 'touch', relationship: { resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } } },
  ]);
  t.is((await as(service, tenant.workspaceAdmin).send('DELETE', `/api/v1/workspaces/${tenant.spaceId}`)).status, 204);
  t.is(await service.orm.em.fork().count(WorkspaceMembership, { workspace: tenant.spaceId }), 0);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: tenant.spaceId }), []);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: chatbot.id }), []);
  t.is((await as(service, tenant.editor).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 403);
});

test("an organization's last workspace cannot be deleted (409)", async (t) => {
  const user = await makeUser(service);
  const response = await as(service, user).send('DELETE', `/api/v1/workspaces/${user.workspaceId}`);
  t.is(response.status, 409);
  t.is(await service.orm.em.fork().count(Workspace, { id: user.workspaceId }), 1);
});

test('only members of the organization can join a workspace (422); an existing member answers 409', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const add = (body: unknown) => as(service, tenant.owner).send('POST', `/api/v1/workspaces/${tenant.spaceId}/members`, body);
  const outsider = await add({ user_id: tenant.stranger.id, role: 'viewer' });
  t.is(outsider.status, 422);
  t.like(await outsider.json(), { errors: [{ field: 'body.user_id' }] });
  t.is((await add({ user_id: tenant.viewer.id, role: 'editor' })).status, 409);
  t.is((await add({ user_id: tenant.member.id, role: 'owner' })).status, 422);
  t.is((await add({ user_id: tenant.member.id, role: 'viewer' })).status, 200);
});

test('workspace members are listed with username and email', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const list = (await (await as(service, tenant.viewer).get(`/api/v1/workspaces/${tenant.spaceId}/members`)).json()) as Array<{
    username: string;
    role: string;
  }>;
  t.deepEqual(list.map((member) => [member.username, member.role]), [
    [tenant.owner.username, 'admin'],
    [tenant.workspaceAdmin.username, 'admin'],
    [tenant.editor.username, 'editor'],
    [tenant.viewer.username, 'viewer'],
  ]);
});

test('a viewer promoted to editor can edit at once; a member may leave; a non-member answers 404', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const members = `/api/v1/workspaces/${tenant.spaceId}/members`;
  t.is((await as(service, tenant.workspaceAdmin).send('PATCH', `${members}/${tenant.viewer.id}`, { role: 'editor' })).status, 200);
  const granted = (await (await as(service, tenant.viewer).get(`/api/v1/workspaces/${tenant.spaceId}/permissions`)).json()) as WorkspacePermissionsBody;
  t.true(granted.permissions.includes('workspace:edit'));
  t.is((await as(service, tenant.editor).send('DELETE', `${members}/${tenant.editor.id}`)).status, 204);
  t.is((await as(service, tenant.editor).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 403);
  t.is((await as(service, tenant.owner).send('PATCH', `${members}/${tenant.member.id}`, { role: 'viewer' })).status, 404);
});

test('the permissions endpoint answers every org:* and workspace:* permission the caller holds there', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const permissionsOf = async (user: { accessToken: string }) =>
    (await (await as(service, user).get(`/api/v1/workspaces/${tenant.spaceId}/permissions`)).json()) as WorkspacePermissionsBody;
  t.deepEqual(await permissionsOf(tenant.editor), {
    organization_id: tenant.organizationId,
    workspace_id: tenant.spaceId,
    permissions: ['org:view', 'workspace:view', 'workspace:edit'],
  });
  t.deepEqual((await permissionsOf(tenant.admin)).permissions, [
    'org:view', 'org:update', 'org:invite', 'org:update_member', 'org:remove_member', 'org:billing', 'org:audit_log', 'org:create_workspace',
    'org:manage_teams', 'org:manage_roles', 'org:view_workspaces', 'org:edit_workspaces', 'org:update_workspaces', 'org:delete_workspaces',
    'org:manage_workspace_members',
    'workspace:view', 'workspace:edit', 'workspace:update', 'workspace:delete', 'workspace:manage_members',
  ]);
});

test('an org admin demoted to member loses every workspace permission at once', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  t.is((await as(service, tenant.admin).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 200);
  await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.admin.id}`, { role: 'member' });
  for (const path of [`/api/v1/workspaces/${tenant.spaceId}`, `/api/v1/workspaces/${tenant.workspaceId}/members`]) {
    t.is((await as(service, tenant.admin).get(path)).status, 403, path);
  }
  t.is((await as(service, tenant.admin).send('PATCH', `/api/v1/workspaces/${tenant.spaceId}`, { name: 'x' })).status, 403);
});

test('removing a user from the organization removes their workspace access', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const extra = await addToWorkspace(service, tenant, tenant.workspaceId, 'editor');
  await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.editor.id}`);
  await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${extra.id}`);
  t.is((await as(service, tenant.editor).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 403);
  t.is((await as(service, extra).get(`/api/v1/workspaces/${tenant.workspaceId}`)).status, 403);
  const remaining = await service.orm.em
    .fork()
    .count(WorkspaceMembership, { user: { $in: [tenant.editor.id, extra.id] }, workspace: { organization: tenant.organizationId } });
  t.is(remaining, 0);
});

test('unknown and malformed workspace ids answer 403 and 422', async (t) => {
  const user = await makeUser(service);
  t.is((await as(service, user).get('/api/v1/workspaces/00000000-0000-4000-8000-000000000000')).status, 403);
  t.is((await as(service, user).send('PATCH', '/api/v1/workspaces/00000000-0000-4000-8000-000000000000', { name: 'x' })).status, 403);
  t.is((await as(service, user).get('/api/v1/workspaces/123/permissions')).status, 422);
  t.is((await as(service, user).get(`${workspacesOf(user.organizationId)}?limit=0`)).status, 422);
});
