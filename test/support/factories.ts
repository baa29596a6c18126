import { randomBytes } from 'node:crypto';
import { ServiceAccountService } from '../../src/services/service-account.service.ts';
import type { TestService } from './test-service.ts';

export interface SignedUpUser {
  id: string;
  username: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** The organization and default workspace signup created. */
  organizationId: string;
  workspaceId: string;
}

export interface SessionBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  user: { id: string; username: string; email: string; created_at: string };
  context: { org_id: string | null; workspace_id: string | null };
}

export function uniqueName(prefix = 'user'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function newSignup(overrides: Partial<{ username: string; email: string; password: string }> = {}) {
  const username = overrides.username ?? uniqueName();
  return {
    username,
    email: overrides.email ?? `${username}@example.com`,
    password: overrides.password ?? `pw-${randomBytes(8).toString('hex')}`,
  };
}

/** A fresh user through the real signup endpoint, with their own organization and workspace. */
export async function signUp(service: TestService, overrides: Parameters<typeof newSignup>[0] = {}): Promise<SignedUpUser> {
  const input = newSignup(overrides);
  const response = await service.send('POST', '/api/v1/auth/email/signup', input);
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const session = (await response.json()) as SessionBody;
  const { org_id: organizationId, workspace_id: workspaceId } = session.context;
  if (!organizationId || !workspaceId) throw new Error(`signup answered no default context: ${JSON.stringify(session.context)}`);
  return {
    id: session.user.id,
    ...input,
    accessToken: session.access_token,
    refreshToken: session.refresh_token,
    organizationId,
    workspaceId,
  };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Requests as one user: `as(service, user).send('PATCH', path, body)`. */
export function as(service: TestService, user: { accessToken: string }) {
  return {
    get: (path: string) => service.request(path, { headers: bearer(user.accessToken) }),
    send: (method: string, path: string, body?: unknown) => service.send(method, path, body, bearer(user.accessToken)),
  };
}

export interface Tenant {
  organizationId: string;
  workspaceId: string;
  owner: SignedUpUser;
  admin: SignedUpUser;
  member: SignedUpUser;
  /** Signed up, in an organization of their own, with no role in this one. */
  stranger: SignedUpUser;
}

/** An organization with an owner, an admin and a member added through the API, and a stranger. */
export async function makeTenant(
  service: TestService,
  // 'none' unless asked: the suites built on a tenant grant workspace roles themselves, so a
  // plain member holds none (test/routes/default-workspace-role.test.ts covers the default).
  options: { defaultWorkspaceRole?: 'none' | 'viewer' | 'editor' } = { defaultWorkspaceRole: 'none' },
): Promise<Tenant> {
  const [owner, admin, member, stranger] = await Promise.all([signUp(service), signUp(service), signUp(service), signUp(service)]);
  if (options.defaultWorkspaceRole) {
    const body = { default_workspace_role: options.defaultWorkspaceRole };
    const patched = await as(service, owner).send('PATCH', `/api/v1/orgs/${owner.organizationId}`, body);
    if (patched.status !== 200) throw new Error(`setting default_workspace_role answered ${patched.status}`);
  }
  const organization = `/api/v1/orgs/${owner.organizationId}/members`;
  for (const [user, role] of [[admin, 'admin'], [member, 'member']] as const) {
    const response = await as(service, owner).send('POST', organization, { user_id: user.id, role });
    if (response.status !== 200) throw new Error(`adding a ${role} answered ${response.status}: ${await response.text()}`);
  }
  return { organizationId: owner.organizationId, workspaceId: owner.workspaceId, owner, admin, member, stranger };
}

export interface WorkspaceTenant extends Tenant {
  /** A workspace besides the default one, so it can be deleted. */
  spaceId: string;
  workspaceAdmin: SignedUpUser;
  editor: SignedUpUser;
  viewer: SignedUpUser;
}

/** Adds a user to the organization as a member, then to the workspace with a role. */
export async function addToWorkspace(
  service: TestService,
  tenant: Tenant,
  workspaceId: string,
  role: 'admin' | 'editor' | 'viewer',
): Promise<SignedUpUser> {
  const user = await signUp(service);
  const owner = as(service, tenant.owner);
  for (const [path, body] of [
    [`/api/v1/orgs/${tenant.organizationId}/members`, { user_id: user.id, role: 'member' }],
    [`/api/v1/workspaces/${workspaceId}/members`, { user_id: user.id, role }],
  ] as const) {
    const response = await owner.send('POST', path, body);
    if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  }
  return user;
}

/** A tenant on the pro plan whose second workspace has an admin, an editor and a viewer (all plain org members). */
export async function makeWorkspaceTenant(service: TestService): Promise<WorkspaceTenant> {
  const tenant = await makeTenant(service);
  // Seven people: more than the free plan's members.
  await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}/billing`, { subscription_tier: 'pro' });
  const created = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/workspaces`, { name: 'Support' });
  if (created.status !== 200) throw new Error(`creating a workspace answered ${created.status}: ${await created.text()}`);
  const spaceId = ((await created.json()) as { id: string }).id;
  const [workspaceAdmin, editor, viewer] = [
    await addToWorkspace(service, tenant, spaceId, 'admin'),
    await addToWorkspace(service, tenant, spaceId, 'editor'),
    await addToWorkspace(service, tenant, spaceId, 'viewer'),
  ];
  return { ...tenant, spaceId, workspaceAdmin, editor, viewer };
}

/**
 * A service account (made as the CLI makes it) and its key. Trusted unless told otherwise, so it
 * may register resources without naming a user, as a backfill does.
 */
export async function makeServiceAccount(
  service: TestService,
  writableTypes: string[] = ['chatbot'],
  options: { trusted?: boolean; organizationIds?: string[] } = { trusted: true },
) {
  const accounts = ServiceAccountService.forAdministration(service.orm);
  const { account, key } = await accounts.create(uniqueName('service'), writableTypes, options);
  return { account, key, revoke: () => accounts.revoke(account.id) };
}
