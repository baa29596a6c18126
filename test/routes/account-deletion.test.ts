import test from 'ava';
import { decodeJwt } from 'jose';
import { OrganizationMembership, ResourceGrant, SignInSession, TeamMembership, User, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTeam, makeTenant, signUp, type SignedUpUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

/** DELETE /auth/me: a person deletes their own account (docs/tenant-api.md). */

const service = useTestService(test);

function deleteAccount(user: { accessToken: string }, body: Record<string, unknown> = {}) {
  return as(service, user).send('DELETE', '/api/v1/auth/me', body);
}

/** A tenant whose member no longer owns the organization signup made them (so nothing but the proof stands in the way). */
async function memberWithoutOwnOrganization(): Promise<{ tenant: Tenant; member: SignedUpUser }> {
  const tenant = await makeTenant(service);
  const { member } = tenant;
  const dropped = await as(service, member).send('DELETE', `/api/v1/orgs/${member.organizationId}`);
  if (dropped.status !== 204) throw new Error(`deleting the member's own organization answered ${dropped.status}`);
  return { tenant, member };
}

/** The member holds every kind of access: a workspace role, a team, and a direct grant on a chatbot. */
async function grantEverything(tenant: Tenant, member: SignedUpUser): Promise<{ chatbotId: string; teamId: string }> {
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: member.id }, 'editor'));
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: member.id }));
  const { key } = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const chatbotId = `bot_${tenant.organizationId.slice(0, 8)}_deleted`;
  const registered = await service.send('PUT', `/api/v1/authz/resources/chatbot/${chatbotId}`, { parent: { type: 'workspace', id: tenant.workspaceId } }, bearer(key));
  if (registered.status !== 201) throw new Error(`registering answered ${registered.status}`);
  const shared = await service.send('POST', `/api/v1/authz/resources/chatbot/${chatbotId}/grants`, { subject: { type: 'user', id: member.id }, role: 'viewer' }, bearer(key));
  if (shared.status !== 201) throw new Error(`sharing answered ${shared.status}: ${await shared.text()}`);
  return { chatbotId, teamId };
}

/** Every row that gives the user access, by table. */
async function accessRows(userId: string) {
  const em = service.orm.em.fork();
  return {
    users: await em.count(User, { id: userId }),
    memberships: await em.count(OrganizationMembership, { user: userId }),
    workspaceMemberships: await em.count(WorkspaceMembership, { user: userId }),
    teamMemberships: await em.count(TeamMembership, { user: userId }),
    grants: await em.count(ResourceGrant, { subjectType: 'user', subjectId: userId }),
    liveSessions: await em.count(SignInSession, { user: userId, endedAt: null }),
  };
}

/** The tuples naming the user as subject, over every definition that takes users. */
async function tuplesOf(userId: string): Promise<string[]> {
  const found: string[] = [];
  for (const resourceType of ['organization', 'workspace', 'team', 'chatbot', 'knowledge_base']) {
    const tuples = await service.spicedb.readRelationships({ resourceType, subject: { type: 'user', id: userId } });
    found.push(...tuples.map((tuple) => `${tuple.resource.type}:${tuple.resource.id}#${tuple.relation}`));
  }
  return found.sort();
}

test('an owner is refused with 409 and nothing changes', async (t) => {
  const owner = await signUp(service);
  const before = { rows: await accessRows(owner.id), tuples: await tuplesOf(owner.id) };
  const refused = await deleteAccount(owner, { password: owner.password });
  t.is(refused.status, 409);
  t.is(refused.headers.get('content-type'), 'application/problem+json');
  t.deepEqual({ rows: await accessRows(owner.id), tuples: await tuplesOf(owner.id) }, before);
  t.is((await as(service, owner).get('/api/v1/auth/me')).status, 200);
});

test('deleting the account removes its memberships, team memberships, grants, tuples and sessions; every token is refused', async (t) => {
  const { tenant, member } = await memberWithoutOwnOrganization();
  const { chatbotId } = await grantEverything(tenant, member);
  const login = await service.send('POST', '/api/v1/auth/email/login', { email: member.email, password: member.password });
  const other = (await login.json()) as { access_token: string; refresh_token: string };
  t.deepEqual(await accessRows(member.id), { users: 1, memberships: 1, workspaceMemberships: 1, teamMemberships: 1, grants: 1, liveSessions: 2 });
  t.true((await tuplesOf(member.id)).length >= 4);

  t.is((await deleteAccount(member, { password: member.password })).status, 204);

  t.deepEqual(await accessRows(member.id), { users: 0, memberships: 0, workspaceMemberships: 0, teamMemberships: 0, grants: 0, liveSessions: 0 });
  t.deepEqual(await tuplesOf(member.id), []);
  for (const accessToken of [member.accessToken, other.access_token]) {
    t.is((await as(service, { accessToken }).get('/api/v1/auth/me')).status, 401);
    t.is((await as(service, { accessToken }).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 401);
  }
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: other.refresh_token })).status, 401);
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: member.email, password: member.password })).status, 401);
  const { key } = await makeServiceAccount(service);
  const check = await service.send(
    'POST',
    '/api/v1/authz/check',
    { resource: { type: 'chatbot', id: chatbotId }, permission: 'chatbot:view', subject: { type: 'user', id: member.id } },
    bearer(key),
  );
  t.false(((await check.json()) as { allowed: boolean }).allowed);
  t.is((await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200, 'the organization goes on');
});

// Events recorded before the deletion are kept as they were hashed: an organization the user
// created still has its billing_email in `org.created` (docs/tenant-api.md, "Deleting an account").
test("the audit log keeps every event about the user under their id; what the deletion records, and the member's organization's chain, name no email", async (t) => {
  const { tenant, member } = await memberWithoutOwnOrganization();
  const aboutMember = () =>
    service.orm.em
      .fork()
      .execute<Array<{ id: string; action: string; organization_id: string | null; changes: unknown }>>(
        `select id, action, organization_id, changes from audit_events where target_id = ? or actor_id = ? order by occurred_at, position`,
        [member.id, member.id],
      );
  const before = await aboutMember();
  t.true(before.length > 0);

  t.is((await deleteAccount(member, { password: member.password })).status, 204);

  const after = await aboutMember();
  t.deepEqual(
    before.map((event) => event.id).filter((id) => !after.some((kept) => kept.id === id)),
    [],
    'nothing recorded about the user is lost',
  );
  t.true(after.some((event) => event.action === 'org.member.account_deleted' && event.organization_id === tenant.organizationId));
  t.true(after.some((event) => event.action === 'user.deleted' && event.organization_id === null));
  const inMembersOrganization = after.filter((event) => event.organization_id === tenant.organizationId || event.organization_id === null);
  t.false(JSON.stringify(inMembersOrganization).toLowerCase().includes(member.email));
  const feed = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events?action=org.member.account_deleted`);
  t.is(feed.status, 200);
  const listed = JSON.stringify(await feed.json());
  t.true(listed.includes(member.id));
  t.false(listed.toLowerCase().includes(member.email));
});

test('without the password a session signed in moments ago is enough; an older one is refused with 403 and nothing changes', async (t) => {
  const { member } = await memberWithoutOwnOrganization();
  const sessionId = String(decodeJwt(member.accessToken).sid);
  await service.orm.em.fork().nativeUpdate(SignInSession, { id: sessionId }, { createdAt: new Date(Date.now() - 11 * 60_000) });
  const before = await accessRows(member.id);

  const stale = await deleteAccount(member);
  t.is(stale.status, 403);
  t.deepEqual(await accessRows(member.id), before);

  const login = await service.send('POST', '/api/v1/auth/email/login', { email: member.email, password: member.password });
  const fresh = (await login.json()) as { access_token: string };
  t.is((await deleteAccount({ accessToken: fresh.access_token })).status, 204);
  t.is((await accessRows(member.id)).users, 0);
});

test('a wrong password answers 403 and changes nothing; guesses are throttled like logins', async (t) => {
  const { member } = await memberWithoutOwnOrganization();
  const before = await accessRows(member.id);
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) statuses.push((await deleteAccount(member, { password: 'not-the-password' })).status);
  t.deepEqual(statuses, [403, 403, 403, 403, 403, 429]);
  t.deepEqual(await accessRows(member.id), before);
  t.is((await as(service, member).get('/api/v1/auth/me')).status, 200);
});

test('bad input answers 4xx problem documents and changes nothing', async (t) => {
  const { member } = await memberWithoutOwnOrganization();
  const before = await accessRows(member.id);
  for (const body of [{ password: 42 }, { password: 'x'.repeat(129) }, { passwd: 'x' }, []]) {
    const response = await as(service, member).send('DELETE', '/api/v1/auth/me', body);
    t.is(response.status, 422, JSON.stringify(body));
    t.is(response.headers.get('content-type'), 'application/problem+json');
  }
  const garbage = await service.request('/api/v1/auth/me', { method: 'DELETE', headers: { ...bearer(member.accessToken), 'content-type': 'application/json' }, body: '{"password":' });
  t.is(garbage.status, 400);
  t.is((await service.send('DELETE', '/api/v1/auth/me', { password: member.password })).status, 401);
  t.deepEqual(await accessRows(member.id), before);
});
