import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { User, type SubscriptionTier } from '../../src/db/entities/index.ts';
import type { Session } from '../../src/services/identity.service.ts';
import { ServiceAccountService } from '../../src/services/service-account.service.ts';
import type { SessionBody } from './responses.ts';
import { seed } from './seeding-services.ts';
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

/**
 * A fresh user through the real signup endpoint, with their own organization and workspace.
 * For tests of signup itself; other tests use makeUser(), which skips HTTP and password hashing.
 */
export async function signUp(service: TestService, overrides: Parameters<typeof newSignup>[0] = {}): Promise<SignedUpUser> {
  const input = newSignup(overrides);
  const response = await service.send('POST', '/api/v1/auth/email/signup', input);
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const session = (await response.json()) as SessionBody;
  return signedUp(input, { id: session.user.id, accessToken: session.access_token, refreshToken: session.refresh_token });
}

/**
 * A fresh user, signed up through the running service's IdentityService (their own organization
 * and default workspace, tuples delivered to SpiceDB, a session) without an HTTP request.
 */
export async function makeUser(service: TestService, overrides: Parameters<typeof newSignup>[0] = {}): Promise<SignedUpUser> {
  const input = newSignup(overrides);
  const session: Session = await seed(service, ({ identity }) => identity.signup(input));
  return signedUp(input, { id: session.user.id, accessToken: session.accessToken, refreshToken: session.refreshToken });
}

function signedUp(
  input: ReturnType<typeof newSignup>,
  session: { id: string; accessToken: string; refreshToken: string },
): SignedUpUser {
  const claims = decodeJwt(session.accessToken);
  return {
    ...input,
    ...session,
    organizationId: String(claims.org_id),
    workspaceId: String(claims.workspace_id),
  };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** The `on_behalf_of` of an authorization-API write that a service makes for `user`, as a real service names the user who clicked. */
export function onBehalfOf(user: { id: string }): { type: 'user'; id: string } {
  return { type: 'user', id: user.id };
}

/** Requests as one user: `as(service, user).send('PATCH', path, body)`. */
export function as(service: TestService, user: { accessToken: string }) {
  return {
    get: (path: string) => service.request(path, { headers: bearer(user.accessToken) }),
    send: (method: string, path: string, body?: unknown) => service.send(method, path, body, bearer(user.accessToken)),
  };
}

/**
 * The user proves they read their email, as the verification link with their password does
 * (test/routes/email-verification.test.ts), without a mail round trip.
 */
export async function proveEmail(service: TestService, user: { id: string }): Promise<void> {
  await service.orm.em.fork().nativeUpdate(User, { id: user.id }, { emailVerifiedAt: new Date() });
}

/**
 * `adder` proposes a membership to `user` over HTTP (POST /orgs/{id}/members) and `user` accepts
 * it by id: the consenting way someone joins. Answers the accept's response.
 */
export async function joinByConsent(
  service: TestService,
  adder: { accessToken: string },
  organizationId: string,
  user: { accessToken: string; id: string },
  role: 'admin' | 'member' = 'member',
): Promise<Response> {
  const proposed = await as(service, adder).send('POST', `/api/v1/orgs/${organizationId}/members`, { user_id: user.id, role });
  if (proposed.status !== 200) throw new Error(`POST members answered ${proposed.status}: ${await proposed.text()}`);
  const { id } = (await proposed.json()) as { id: string };
  return as(service, user).send('POST', `/api/v1/auth/me/invitations/${id}/accept`);
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

/** An organization with an owner, an admin and a member (added by the owner), and a stranger. */
export async function makeTenant(
  service: TestService,
  // 'none' unless asked: the suites built on a tenant grant workspace roles themselves, so a
  // plain member holds none (test/routes/default-workspace-role.test.ts covers the default).
  options: { defaultWorkspaceRole?: 'none' | 'viewer' | 'editor' } = { defaultWorkspaceRole: 'none' },
): Promise<Tenant> {
  const [owner, admin, member, stranger] = await Promise.all([makeUser(service), makeUser(service), makeUser(service), makeUser(service)]);
  const defaultWorkspaceRole = options.defaultWorkspaceRole;
  if (defaultWorkspaceRole) {
    await seed(service, ({ organizations }) => organizations.update(owner.id, owner.organizationId, { defaultWorkspaceRole }));
  }
  for (const [user, role] of [[admin, 'admin'], [member, 'member']] as const) {
    await seed(service, ({ members }) => members.add(OPERATOR, owner.organizationId, user.id, role));
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

/** A new user, added by the tenant's owner to the organization as a member, then to the workspace with a role. */
export async function addToWorkspace(
  service: TestService,
  tenant: Tenant,
  workspaceId: string,
  role: 'admin' | 'editor' | 'viewer',
): Promise<SignedUpUser> {
  const user = await makeUser(service);
  await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, user.id, 'member'));
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, workspaceId, { userId: user.id }, role));
  return user;
}

/**
 * A tenant whose second workspace has an admin, an editor and a viewer (all plain organization
 * members): seven people, more than the free plan allows, so pass `{ plan: 'pro' }` unless the
 * service's PLAN_LIMITS are raised.
 */
export async function makeWorkspaceTenant(
  service: TestService,
  options: { plan?: SubscriptionTier } = {},
): Promise<WorkspaceTenant> {
  const tenant = await makeTenant(service);
  const { owner, organizationId } = tenant;
  const plan = options.plan;
  if (plan) await seed(service, ({ subscriptionTiers }) => subscriptionTiers.setByOperator(organizationId, plan));
  const created = await seed(service, ({ workspaces }) => workspaces.create(owner.id, organizationId, { name: 'Support' }));
  const spaceId = created.result.workspace.id;
  const [workspaceAdmin, editor, viewer] = [
    await addToWorkspace(service, tenant, spaceId, 'admin'),
    await addToWorkspace(service, tenant, spaceId, 'editor'),
    await addToWorkspace(service, tenant, spaceId, 'viewer'),
  ];
  return { ...tenant, spaceId, workspaceAdmin, editor, viewer };
}

/**
 * A service account (made as the CLI makes it) and its key, with the least privilege the CLI
 * gives: it writes only for a named user (on_behalf_of), as a real service does. A test that
 * needs an account that writes for no one (a backfill) asks for `{ trusted: true }` by name.
 */
export async function makeServiceAccount(
  service: TestService,
  writableTypes: string[] = ['chatbot'],
  options: { trusted?: boolean; setsSubscriptionTiers?: boolean; organizationIds?: string[]; modules?: string[] } = {},
) {
  const accounts = ServiceAccountService.forAdministration(service.orm, service.policy);
  const { account, key } = await accounts.create(uniqueName('service'), writableTypes, options);
  return { account, key, revoke: () => accounts.revoke(account.id) };
}

/** A team of the tenant's organization, made by its owner. */
export async function makeTeam(service: TestService, tenant: Tenant, name = uniqueName('team')): Promise<string> {
  const created = await seed(service, ({ teams }) => teams.create(tenant.owner.id, tenant.organizationId, { name }));
  return created.result.id;
}

/** A custom role of the tenant's organization, defined by its owner from catalogue names. */
export async function makeCustomRole(service: TestService, tenant: Tenant, permissions: string[], name = uniqueName('role')): Promise<string> {
  const created = await seed(service, ({ roles }) => roles.create(tenant.owner.id, tenant.organizationId, { name, permissions }));
  return created.result.id;
}

/** The tenant's owner gives `user` the custom role across the organization (or, with `workspaceId`, there only). */
export async function giveCustomRole(service: TestService, tenant: Tenant, roleId: string, user: { id: string }, workspaceId: string | null = null): Promise<void> {
  await seed(service, ({ roleAssignments }) => roleAssignments.assign(tenant.owner.id, roleId, { holder: { userId: user.id }, workspaceId }));
}
