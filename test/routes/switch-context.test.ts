import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { addToWorkspace, as, joinByConsent, makeWorkspaceTenant, makeUser } from '../support/factories.ts';
import type { SessionBody, SwitchedBody, WorkspacePermissionsBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

async function switchContext(user: { accessToken: string }, body: unknown) {
  return as(service, user).send('POST', '/api/v1/auth/switch-context', body);
}

test('switching context answers a token for the new organization and workspace that verifies against the JWKS', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const response = await switchContext(tenant.editor, { org_id: tenant.organizationId, workspace_id: tenant.spaceId });
  t.is(response.status, 200);
  const body = (await response.json()) as SwitchedBody;
  t.deepEqual(Object.keys(body).sort(), ['access_token', 'context', 'expires_in', 'reason', 'token_type', 'user']);
  t.is(body.reason, null);
  t.is(body.user.id, tenant.editor.id);
  t.deepEqual((body as unknown as { context: unknown }).context, { org_id: tenant.organizationId, workspace_id: tenant.spaceId });

  const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`)), {
    issuer: 'tenant-authz',
    audience: 'tenant-authz',
  });
  t.is(payload.org_id, tenant.organizationId);
  t.is(payload.workspace_id, tenant.spaceId);
});

test('the switched token carries exactly the permissions the permissions endpoint reports', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  for (const role of ['owner', 'admin', 'workspaceAdmin', 'editor', 'viewer'] as const) {
    const switched = (await (await switchContext(tenant[role], { org_id: tenant.organizationId, workspace_id: tenant.spaceId })).json()) as SwitchedBody;
    const reported = (await (await as(service, tenant[role]).get(`/api/v1/workspaces/${tenant.spaceId}/permissions`)).json()) as WorkspacePermissionsBody;
    t.deepEqual(decodeJwt(switched.access_token).permissions, reported.permissions, role);
  }
});

test('without a workspace named, the token is for the default workspace when the caller can view it, like a sign-in', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  for (const role of ['owner', 'admin'] as const) {
    const response = await switchContext(tenant[role], { org_id: tenant.organizationId });
    const switched = (await response.json()) as SwitchedBody;
    t.deepEqual((switched as unknown as { context: unknown }).context, { org_id: tenant.organizationId, workspace_id: tenant.workspaceId }, role);
    t.is(decodeJwt(switched.access_token).workspace_id, tenant.workspaceId, role);
  }
  // A member who joined with the organization's default workspace role (viewer) lands there too.
  const joined = await makeUser(service);
  await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { default_workspace_role: 'viewer' });
  await joinByConsent(service, tenant.owner, tenant.organizationId, joined);
  const claims = decodeJwt(((await (await switchContext(joined, { org_id: tenant.organizationId })).json()) as SwitchedBody).access_token);
  t.is(claims.workspace_id, tenant.workspaceId);
  t.deepEqual(claims.permissions, ['org:view', 'workspace:view']);
});

test('without a workspace named, a caller who cannot view the default workspace gets the organization alone, with its org:* permissions', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const switched = (await (await switchContext(tenant.member, { org_id: tenant.organizationId })).json()) as SwitchedBody;
  const claims = decodeJwt(switched.access_token);
  t.is(claims.org_id, tenant.organizationId);
  t.is(claims.workspace_id, null);
  t.deepEqual(claims.permissions, ['org:view']);
});

test('an organization or workspace the caller cannot view answers 403', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  t.is((await switchContext(tenant.stranger, { org_id: tenant.organizationId })).status, 403);
  t.is((await switchContext(tenant.member, { org_id: tenant.organizationId, workspace_id: tenant.spaceId })).status, 403);
  t.is((await switchContext(tenant.member, { org_id: '00000000-0000-4000-8000-000000000000' })).status, 403);
});

test('a workspace of another organization answers 422; malformed ids answer 422', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const unseen = await switchContext(tenant.owner, { org_id: tenant.organizationId, workspace_id: tenant.stranger.workspaceId });
  t.is(unseen.status, 403, "a workspace the caller cannot view is refused before its organization is compared");
  // A member of the tenant whose own workspace, in their own organization, they can view.
  const own = await makeUser(service);
  await joinByConsent(service, tenant.owner, tenant.organizationId, own);
  const crossed = await switchContext(own, { org_id: tenant.organizationId, workspace_id: own.workspaceId });
  t.is(crossed.status, 422);
  t.like(await crossed.json(), { errors: [{ field: 'body.workspace_id' }] });
  t.is((await switchContext(own, { org_id: 'nope' })).status, 422);
  t.is((await switchContext(own, { org_id: tenant.organizationId, extra: 1 })).status, 422);
});

test('refreshing keeps the switched context and recomputes its permissions', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  await switchContext(tenant.viewer, { org_id: tenant.organizationId, workspace_id: tenant.spaceId });
  await as(service, tenant.owner).send('PATCH', `/api/v1/workspaces/${tenant.spaceId}/members/${tenant.viewer.id}`, { role: 'editor' });
  const refreshed = (await (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: tenant.viewer.refreshToken })).json()) as SessionBody;
  const claims = decodeJwt(refreshed.access_token);
  t.is(claims.org_id, tenant.organizationId);
  t.is(claims.workspace_id, tenant.spaceId);
  t.deepEqual(claims.permissions, ['org:view', 'workspace:view', 'workspace:edit']);
});

test("a refreshed token falls back to the user's own organization when they lost access to its context", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const guest = await addToWorkspace(service, tenant, tenant.spaceId, 'viewer');
  await switchContext(guest, { org_id: tenant.organizationId, workspace_id: tenant.spaceId });
  await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${guest.id}`);
  const refreshed = (await (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: guest.refreshToken })).json()) as SessionBody;
  const claims = decodeJwt(refreshed.access_token);
  t.is(claims.org_id, guest.organizationId);
  t.is(claims.workspace_id, guest.workspaceId);
  t.true((claims.permissions as string[]).includes('org:delete'));
});

test("a workspace of another organization that the caller can see answers 422, checked at that workspace's own freshness", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  // The editor of the tenant's workspace switches to the organization signup gave them.
  const crossed = await switchContext(tenant.editor, { org_id: tenant.editor.organizationId, workspace_id: tenant.spaceId });
  t.is(crossed.status, 422);
  t.like(await crossed.json(), { errors: [{ field: 'body.workspace_id', message: 'is not a workspace of that organization' }] });
});
