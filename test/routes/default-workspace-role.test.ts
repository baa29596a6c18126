import test from 'ava';
import { reconcile } from '../../src/authz/reconcile.ts';
import { WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, joinByConsent, signUp, type SignedUpUser } from '../support/factories.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(async () => {
  await service?.stop();
});

const organization = (id: string) => `/api/v1/orgs/${id}`;

async function join(owner: SignedUpUser, role: 'admin' | 'member' = 'member'): Promise<SignedUpUser> {
  const newcomer = await signUp(service);
  const response = await joinByConsent(service, owner, owner.organizationId, newcomer, role);
  if (response.status !== 200) throw new Error(`joining answered ${response.status}: ${await response.text()}`);
  return newcomer;
}

async function workspaceRoleOf(workspaceId: string, userId: string): Promise<string | null> {
  const row = await service.orm.em.fork().findOne(WorkspaceMembership, { workspace: workspaceId, user: userId });
  return row?.role ?? null;
}

async function can(permission: string, workspaceId: string, userId: string): Promise<boolean> {
  const check = await service.spicedb.checkPermission(
    { resource: { type: 'workspace', id: workspaceId }, permission, subject: { type: 'user', id: userId } },
    { kind: 'fully_consistent' },
  );
  return check.allowed;
}

test('a new organization answers default_workspace_role viewer', async (t) => {
  const owner = await signUp(service);
  const response = await as(service, owner).get(organization(owner.organizationId));
  t.is(((await response.json()) as { default_workspace_role: string }).default_workspace_role, 'viewer');
});

test('a member who joins sees the Default Workspace as a viewer: a row and its tuple', async (t) => {
  const owner = await signUp(service);
  const member = await join(owner);
  t.is(await workspaceRoleOf(owner.workspaceId, member.id), 'viewer');
  t.true(await can('view', owner.workspaceId, member.id));
  t.false(await can('edit', owner.workspaceId, member.id));

  const listed = await as(service, member).get(`${organization(owner.organizationId)}/workspaces`);
  t.deepEqual(((await listed.json()) as Array<{ name: string }>).map((workspace) => workspace.name), ['Default Workspace']);
  t.is((await as(service, member).get(`/api/v1/workspaces/${owner.workspaceId}`)).status, 200);
});

test('PATCH default_workspace_role editor or none decides what the next member gets', async (t) => {
  const owner = await signUp(service);
  const patch = (value: string) => as(service, owner).send('PATCH', organization(owner.organizationId), { default_workspace_role: value });

  const editorSetting = await patch('editor');
  t.is(editorSetting.status, 200);
  t.truthy(editorSetting.headers.get('zedtoken'));
  t.is(((await editorSetting.json()) as { default_workspace_role: string }).default_workspace_role, 'editor');
  const editor = await join(owner);
  t.is(await workspaceRoleOf(owner.workspaceId, editor.id), 'editor');
  t.true(await can('edit', owner.workspaceId, editor.id));

  t.is((await patch('none')).status, 200);
  const outsider = await join(owner);
  t.is(await workspaceRoleOf(owner.workspaceId, outsider.id), null);
  t.false(await can('view', owner.workspaceId, outsider.id));
  t.is(await workspaceRoleOf(owner.workspaceId, editor.id), 'editor', 'a change affects later joins only');

  t.is((await patch('admin')).status, 422, 'a default can never make workspace admins');
});

test('only org:update may change default_workspace_role', async (t) => {
  const owner = await signUp(service);
  const member = await join(owner);
  const admin = await join(owner, 'admin');
  const body = { default_workspace_role: 'editor' };
  t.is((await as(service, member).send('PATCH', organization(owner.organizationId), body)).status, 403);
  t.is((await as(service, admin).send('PATCH', organization(owner.organizationId), body)).status, 200);
});

test('removing the member removes their default workspace row and tuple', async (t) => {
  const owner = await signUp(service);
  const member = await join(owner);
  const removed = await as(service, owner).send('DELETE', `${organization(owner.organizationId)}/members/${member.id}`);
  t.is(removed.status, 204);
  t.is(await workspaceRoleOf(owner.workspaceId, member.id), null);
  t.false(await can('view', owner.workspaceId, member.id));
});

test('the OpenAPI document describes default_workspace_role on the organization and its update', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as {
    components: { schemas: Record<string, { properties?: Record<string, { enum?: string[]; description?: string }> }> };
  };
  for (const schema of ['OrganizationResponse', 'UpdateOrganizationRequest']) {
    const property = document.components.schemas[schema]?.properties?.default_workspace_role;
    t.deepEqual(property?.enum, ['none', 'viewer', 'editor'], schema);
    t.regex(property?.description ?? '', /default workspace/i, schema);
  }
});

test('joins through the default workspace leave Postgres and SpiceDB in step (reconcile finds no drift)', async (t) => {
  // Reconcile reads every tuple of its SpiceDB: this service has one of its own.
  const own = await startTestService({ environment: { SPICEDB_ENDPOINT: '' } });
  t.teardown(() => own.stop());
  const owner = await signUp(own);
  for (const role of ['viewer', 'editor'] as const) {
    await as(own, owner).send('PATCH', organization(owner.organizationId), { default_workspace_role: role });
    const newcomer = await signUp(own);
    t.is((await joinByConsent(own, owner, owner.organizationId, newcomer)).status, 200);
  }
  t.deepEqual(await reconcile(own.orm, own.spicedb, { fix: false }), { missing: [], extra: [] });
});
