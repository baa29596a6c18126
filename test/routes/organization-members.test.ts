import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { Invitation, OrganizationMembership, User, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTenant, makeUser, type SignedUpUser } from '../support/factories.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const members = (organizationId: string) => `/api/v1/orgs/${organizationId}/members`;

interface MemberBody {
  id: string;
  organization_id: string;
  user_id: string;
  role: string;
  created_at: string;
  username: string;
  email: string | null;
  state: 'active' | 'pending';
}

/** The organization ids in the user's GET /orgs. */
async function organizationsOf(user: SignedUpUser): Promise<string[]> {
  return ((await (await as(service, user).get('/api/v1/orgs')).json()) as Array<{ id: string }>).map((organization) => organization.id);
}

async function tuplesOf(organizationId: string, userId: string): Promise<string[]> {
  const tuples = await service.spicedb.readRelationships({
    resourceType: 'organization',
    resourceId: organizationId,
    subject: { type: 'user', id: userId },
  });
  return tuples.map((tuple) => tuple.relation);
}

test('adding an unknown user answers 404; an existing member 409; the owner role 422', async (t) => {
  const tenant = await makeTenant(service);
  const add = (body: unknown) => as(service, tenant.owner).send('POST', members(tenant.organizationId), body);
  t.is((await add({ user_id: '00000000-0000-4000-8000-000000000000', role: 'member' })).status, 404);
  t.is((await add({ user_id: tenant.member.id, role: 'admin' })).status, 409);
  t.is((await add({ user_id: tenant.stranger.id, role: 'owner' })).status, 422);
  t.is((await add({ user_id: 'nope', role: 'member' })).status, 422);
  t.is((await add({ user_id: tenant.stranger.id, role: 'member', is_owner: true })).status, 422);
});

test('the same add-member request sent twice at once gives one 200, one 409, one pending membership and no tuple', async (t) => {
  const [owner, invitee] = [await makeUser(service), await makeUser(service)];
  const statuses = await Promise.all(
    [1, 2].map(async () => (await as(service, owner).send('POST', members(owner.organizationId), { user_id: invitee.id, role: 'member' })).status),
  );
  t.deepEqual(statuses.sort(), [200, 409]);
  t.is(await service.orm.em.fork().count(Invitation, { organization: owner.organizationId, invitee: invitee.id, state: 'pending' }), 1);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: owner.organizationId, user: invitee.id }), 0);
  t.deepEqual(await tuplesOf(owner.organizationId, invitee.id), []);
});

test('adding a user by id only proposes it: until they accept there is no row, no tuple, no email shown, no organization in their list; it waits in their invitations', async (t) => {
  const tenant = await makeTenant(service);
  const victim = await makeUser(service);
  const response = await as(service, tenant.admin).send('POST', members(tenant.organizationId), { user_id: victim.id, role: 'admin' });
  t.is(response.status, 200);
  const text = await response.text();
  const proposed = JSON.parse(text) as MemberBody;
  t.like(proposed, { organization_id: tenant.organizationId, user_id: victim.id, role: 'admin', username: victim.username, email: null, state: 'pending' });
  t.false(text.includes(victim.email), 'the answer carries no email');

  const listed = (await (await as(service, tenant.owner).get(`${members(tenant.organizationId)}?limit=100`)).text());
  t.false(listed.includes(victim.id), 'not in the member list');
  t.false(listed.includes(victim.email));
  const invitations = await (await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/invitations`)).text();
  t.false(invitations.includes(victim.email), 'nor in the invitation list, which names the account by id');
  t.true(invitations.includes(victim.id));
  const audit = await (await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events?limit=200`)).text();
  t.false(audit.includes(victim.email), 'nor in the audit log');
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: victim.id }), 0);
  t.deepEqual(await tuplesOf(tenant.organizationId, victim.id), []);
  t.false((await organizationsOf(victim)).includes(tenant.organizationId));
  t.is((await as(service, victim).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 403);

  const mine = (await (await as(service, victim).get('/api/v1/auth/me/invitations')).json()) as Array<Record<string, unknown>>;
  t.deepEqual(
    mine.map(({ id, organization_id, inviter_username, role }) => ({ id, organization_id, inviter_username, role })),
    [{ id: proposed.id, organization_id: tenant.organizationId, inviter_username: tenant.admin.username, role: 'admin' }],
    'addressed to the account, it is listed though the account never proved its email',
  );
});

test('accepting a proposed membership makes a member with the tuple and the default workspace role, and the list then shows their email', async (t) => {
  const owner = await makeUser(service);
  const joiner = await makeUser(service);
  const proposed = (await (await as(service, owner).send('POST', members(owner.organizationId), { user_id: joiner.id, role: 'member' })).json()) as MemberBody;
  const accepted = await as(service, joiner).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/accept`);
  t.is(accepted.status, 200);
  t.truthy(accepted.headers.get('ZedToken'));
  t.like(await accepted.json(), { organization_id: owner.organizationId, user_id: joiner.id, role: 'member' });
  t.deepEqual(await tuplesOf(owner.organizationId, joiner.id), ['member']);
  const workspaceTuples = await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: owner.workspaceId, subject: { type: 'user', id: joiner.id } });
  t.deepEqual(workspaceTuples.map((tuple) => tuple.relation), ['viewer']);
  t.true((await organizationsOf(joiner)).includes(owner.organizationId));
  const listed = (await (await as(service, owner).get(members(owner.organizationId))).json()) as MemberBody[];
  t.like(listed.find((member) => member.user_id === joiner.id), { username: joiner.username, email: joiner.email, state: 'active' });
  t.is((await as(service, joiner).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/accept`)).status, 404, 'single use');
  t.deepEqual(await (await as(service, joiner).get('/api/v1/auth/me/invitations')).json(), []);
});

test('declining a proposed membership leaves nothing, and no one else can answer it', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const proposed = (await (await as(service, tenant.owner).send('POST', members(tenant.organizationId), { user_id: invitee.id, role: 'member' })).json()) as MemberBody;
  for (const other of [tenant.stranger, tenant.member]) {
    t.is((await as(service, other).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/accept`)).status, 404);
    t.is((await as(service, other).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/decline`)).status, 404);
  }
  t.is((await as(service, invitee).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/decline`)).status, 204);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id }), 0);
  t.deepEqual(await tuplesOf(tenant.organizationId, invitee.id), []);
  t.false((await organizationsOf(invitee)).includes(tenant.organizationId));
  t.deepEqual(await (await as(service, invitee).get('/api/v1/auth/me/invitations')).json(), []);
  t.is((await as(service, invitee).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/accept`)).status, 404);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: proposed.id })).state, 'declined');
  const again = await as(service, tenant.owner).send('POST', members(tenant.organizationId), { user_id: invitee.id, role: 'member' });
  t.is(again.status, 200, 'a declined proposal can be made again');
});

test('a proposed membership and an invitation to the same person’s email do not block each other, so no 409 ties an account to an address', async (t) => {
  const tenant = await makeTenant(service);
  const person = await makeUser(service);
  const invited = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: `${person.email}`, role: 'member' });
  t.is(invited.status, 201);
  t.is((await as(service, tenant.owner).send('POST', members(tenant.organizationId), { user_id: person.id, role: 'member' })).status, 200);
  const stranger = await makeUser(service);
  t.is((await as(service, tenant.owner).send('POST', members(tenant.organizationId), { user_id: stranger.id, role: 'member' })).status, 402, 'each holds a seat');
});

test('a trusted service account adds a member at once, active, with the list’s fields; an untrusted or out-of-scope one gets 403 and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const [added, refused] = [await makeUser(service), await makeUser(service)];
  const other = await makeUser(service);
  const trusted = await makeServiceAccount(service, [], { trusted: true });
  const untrusted = await makeServiceAccount(service, [], { trusted: false });
  const elsewhere = await makeServiceAccount(service, [], { trusted: true, organizationIds: [other.organizationId] });
  for (const account of [untrusted, elsewhere]) {
    const response = await service.send('POST', members(tenant.organizationId), { user_id: refused.id, role: 'member' }, bearer(account.key));
    t.is(response.status, 403);
  }
  t.is(await service.orm.em.fork().count(Invitation, { invitee: refused.id }), 0);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: refused.id }), 0);

  const response = await service.send('POST', members(tenant.organizationId), { user_id: added.id, role: 'admin' }, bearer(trusted.key));
  t.is(response.status, 200);
  t.truthy(response.headers.get('ZedToken'));
  const member = (await response.json()) as MemberBody;
  t.like(member, { user_id: added.id, role: 'admin', username: added.username, email: added.email, state: 'active' });
  t.deepEqual(await tuplesOf(tenant.organizationId, added.id), ['admin']);
  const [listed] = ((await (await as(service, tenant.owner).get(members(tenant.organizationId))).json()) as MemberBody[]).filter((row) => row.user_id === added.id);
  t.deepEqual(Object.keys(member).sort(), Object.keys(listed ?? {}).sort(), 'the answer has the list’s shape');
  t.deepEqual(member, listed);
  const [event] = (await (await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events?action=org.member.added&target_id=${added.id}`)).json()) as Array<{ actor: unknown }>;
  t.deepEqual(event?.actor, { type: 'service_account', id: trusted.account.id });
});

test('the answer to a proposal has the member list’s shape, with no email', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const proposed = (await (await as(service, tenant.owner).send('POST', members(tenant.organizationId), { user_id: invitee.id, role: 'member' })).json()) as MemberBody;
  const [listed] = (await (await as(service, tenant.owner).get(members(tenant.organizationId))).json()) as MemberBody[];
  t.deepEqual(Object.keys(proposed).sort(), Object.keys(listed ?? {}).sort());
  t.is(proposed.email, null);
  t.is(proposed.username, invitee.username);
});

const withServer = canRunSpiceDbServer ? test.serial : test.skip;

withServer('npm run cli -- member add adds a member at once against a SpiceDB server, and refuses with an embedded one', async (t) => {
  const spicedb = await startSpiceDbServer();
  t.teardown(() => spicedb.stop());
  const environment = { SPICEDB_ENDPOINT: spicedb.endpoint, SPICEDB_PRESHARED_KEY: spicedb.presharedKey, SPICEDB_INSECURE: 'true' };
  const local = await startTestService({ environment });
  t.teardown(() => local.stop());
  const [owner, joiner] = [await makeUser(local), await makeUser(local)];
  const cli = (env: Record<string, string>, ...args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli/main.ts', 'member', ...args], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: local.database.url, ...env } }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  const embedded = await cli({ SPICEDB_ENDPOINT: '' }, 'add', owner.organizationId, joiner.id);
  t.is(embedded.code, 2);
  t.regex(embedded.stderr, /needs SPICEDB_ENDPOINT/);
  t.is((await cli(environment, 'add', owner.organizationId, 'not-a-uuid')).code, 2);

  const added = await cli(environment, 'add', owner.organizationId, joiner.id, '--role', 'admin');
  t.is(added.code, 0, added.stderr);
  t.regex(added.stdout, new RegExp(`Added ${joiner.username}`));
  const check = await local.spicedb.checkPermission(
    { resource: { type: 'organization', id: owner.organizationId }, permission: 'invite', subject: { type: 'user', id: joiner.id } },
    { kind: 'fully_consistent' },
  );
  t.true(check.allowed);
  t.is((await as(local, joiner).get(`/api/v1/orgs/${owner.organizationId}`)).status, 200, 'the running service sees it at once');
  t.is((await cli(environment, 'add', owner.organizationId, joiner.id)).code, 1, 'already a member');
});

test('the member list carries each member’s username and email, and pages like the organization list', async (t) => {
  const tenant = await makeTenant(service);
  const first = await as(service, tenant.member).get(`${members(tenant.organizationId)}?limit=2`);
  t.is(first.status, 200);
  const page = (await first.json()) as Array<{ user_id: string; username: string; email: string; role: string }>;
  t.deepEqual(page.map((member) => [member.username, member.email, member.role]), [
    [tenant.owner.username, tenant.owner.email, 'owner'],
    [tenant.admin.username, tenant.admin.email, 'admin'],
  ]);
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
  const rest = (await (await as(service, tenant.member).get(next)).json()) as Array<{ user_id: string }>;
  t.deepEqual(rest.map((member) => member.user_id), [tenant.member.id]);
});

test("changing a member's role answers the new role and moves the tuple in SpiceDB", async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('PATCH', `${members(tenant.organizationId)}/${tenant.member.id}`, { role: 'admin' });
  t.is(response.status, 200);
  t.like(await response.json(), { user_id: tenant.member.id, role: 'admin' });
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.member.id), ['admin']);
});

test('an admin demoted to member loses admin permissions on the very next request', async (t) => {
  const tenant = await makeTenant(service);
  await as(service, tenant.owner).send('PATCH', `${members(tenant.organizationId)}/${tenant.admin.id}`, { role: 'member' });
  const invite = await as(service, tenant.admin).send('POST', members(tenant.organizationId), { user_id: tenant.stranger.id, role: 'member' });
  t.is(invite.status, 403);
  t.is((await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}/billing`)).status, 403);
  t.is((await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200, 'still a member');
});

test("the owner's role cannot change (400); a non-member's role answers 404", async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.admin).send('PATCH', `${members(tenant.organizationId)}/${tenant.owner.id}`, { role: 'member' })).status, 400);
  t.is((await as(service, tenant.owner).send('PATCH', `${members(tenant.organizationId)}/${tenant.stranger.id}`, { role: 'admin' })).status, 404);
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.owner.id), ['owner']);
});

test('removing a member also removes their workspace memberships, rows and tuples', async (t) => {
  const tenant = await makeTenant(service);
  const em = service.orm.em.fork();
  await em.transactional(async (tx) => {
    const ids = await service.outbox.enqueueGrants(
      tx,
      [{ resource: { type: 'workspace', id: tenant.workspaceId }, relation: 'viewer', subject: { type: 'user', id: tenant.member.id } }],
      tenant.organizationId,
    );
    tx.persist(new WorkspaceMembership(tx.getReference(Workspace, tenant.workspaceId), tx.getReference(User, tenant.member.id), 'viewer'));
    return ids;
  }).then((ids) => service.relay.deliver(ids, tenant.organizationId));

  const response = await as(service, tenant.admin).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`);
  t.is(response.status, 204);
  t.is(await em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: tenant.member.id }), 0);
  t.is(await em.fork().count(WorkspaceMembership, { workspace: tenant.workspaceId, user: tenant.member.id }), 0);
  t.deepEqual(await tuplesOf(tenant.organizationId, tenant.member.id), []);
  const workspaceTuples = await service.spicedb.readRelationships({
    resourceType: 'workspace',
    resourceId: tenant.workspaceId,
    subject: { type: 'user', id: tenant.member.id },
  });
  t.deepEqual(workspaceTuples, []);
});

test('a removed member replaying their unexpired access token is refused on the next request', async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200);
  await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`);
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 403);
  t.is((await as(service, tenant.member).get(members(tenant.organizationId))).status, 403);
});

test('any member may leave; the owner cannot be removed (400); a non-member answers 404', async (t) => {
  const tenant = await makeTenant(service);
  t.is((await as(service, tenant.member).send('DELETE', `${members(tenant.organizationId)}/${tenant.member.id}`)).status, 204);
  t.is((await as(service, tenant.admin).send('DELETE', `${members(tenant.organizationId)}/${tenant.owner.id}`)).status, 400);
  t.is((await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.owner.id}`)).status, 400);
  t.is((await as(service, tenant.owner).send('DELETE', `${members(tenant.organizationId)}/${tenant.stranger.id}`)).status, 404);
  t.is((await as(service, tenant.stranger).send('DELETE', `${members(tenant.organizationId)}/${tenant.stranger.id}`)).status, 403, 'a stranger learns nothing');
});

test('concurrent transfers, demotions and removals leave exactly one owner, in Postgres and in SpiceDB', async (t) => {
  const tenant = await makeTenant(service);
  const organization = `/api/v1/orgs/${tenant.organizationId}`;
  await Promise.all([
    as(service, tenant.owner).send('POST', `${organization}/transfer-ownership`, { user_id: tenant.admin.id }),
    as(service, tenant.owner).send('POST', `${organization}/transfer-ownership`, { user_id: tenant.member.id }),
    as(service, tenant.admin).send('PATCH', `${organization}/members/${tenant.owner.id}`, { role: 'member' }),
    as(service, tenant.admin).send('PATCH', `${organization}/members/${tenant.member.id}`, { role: 'admin' }),
    as(service, tenant.owner).send('DELETE', `${organization}/members/${tenant.admin.id}`),
    as(service, tenant.admin).send('DELETE', `${organization}/members/${tenant.owner.id}`),
  ]);
  const owners = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId, role: 'owner' });
  t.is(owners.length, 1);
  const ownerTuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, relation: 'owner' });
  t.deepEqual(ownerTuples.map((tuple) => tuple.subject.id), owners.map((owner) => owner.user.id));

  const recorded = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId });
  const granted = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId });
  t.deepEqual(
    granted.map((tuple) => `${tuple.subject.id}:${tuple.relation}`).sort(),
    recorded.map((membership) => `${membership.user.id}:${membership.role}`).sort(),
    'SpiceDB matches Postgres',
  );
});
