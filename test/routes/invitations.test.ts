import test from 'ava';
import { INVITATION_SUBJECT } from '../../src/mail/invitation-message.ts';
import { roleChange } from '../../src/authz/relationships.ts';
import { Invitation, Organization, OrganizationMembership, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { as, makeTenant, makeUser, makeWorkspaceTenant, proveEmail, uniqueName, type SignedUpUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { startMailbox, tokenIn, type TestMailbox } from '../support/smtp.ts';
import { useTestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  // Resends here are about tokens and states, not pacing: test/services/invitation-mail.test.ts covers the cooldown and limits.
  return { environment: { SMTP_URL: mailbox.url, PUBLIC_URL: 'https://app.example.test', OUTBOX_POLL_MS: '100', INVITATION_RESEND_COOLDOWN_SECONDS: '0' } };
});
test.after.always(async () => {
  await mailbox?.close();
});

const invitationsOf = (organizationId: string) => `/api/v1/orgs/${organizationId}/invitations`;

interface InvitationBody {
  id: string;
  email: string;
  role: string;
  state: string;
  delivery: string;
  expires_at: string;
  invited_by: string;
  workspaces: Array<{ workspace_id: string; role: string }>;
}

async function invite(
  inviter: SignedUpUser,
  organizationId: string,
  body: Record<string, unknown>,
): Promise<{ invitation: InvitationBody; token: string }> {
  const before = mailbox.messages.length;
  const response = await as(service, inviter).send('POST', invitationsOf(organizationId), body);
  if (response.status !== 201) throw new Error(`invite answered ${response.status}: ${await response.text()}`);
  const invitation = (await response.json()) as InvitationBody;
  const mail = await mailbox.waitFor(invitation.email, { after: before, subject: INVITATION_SUBJECT });
  await deliveredSent(invitation.id);
  return { invitation, token: tokenIn(mail) };
}

/** The relay marks an invitation sent just after the SMTP server took its message: wait for that too. */
async function deliveredSent(id: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await service.orm.em.fork().findOneOrFail(Invitation, { id })).delivery !== 'sent') {
    if (Date.now() > deadline) throw new Error(`invitation ${id} not marked sent`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function onPlan(tenant: Tenant, subscriptionTier: 'pro'): Promise<void> {
  await seed(service, ({ subscriptionTiers }) => subscriptionTiers.setByOperator(tenant.organizationId, subscriptionTier));
}

async function invitationCount(tenant: Tenant): Promise<number> {
  return service.orm.em.fork().count(Invitation, { organization: tenant.organizationId });
}

/** Everything an invitation request could change: the invitations, their unsent mail, the audit chain, members and tuples. */
async function invitationState(tenant: Tenant) {
  const em = service.orm.em.fork();
  const invitations = await em.find(Invitation, { organization: tenant.organizationId }, { orderBy: { id: 'asc' } });
  const outbox = await em.getConnection().execute<Array<{ id: string }>>(
    'select id from mail_outbox where invitation_id in (select id from invitations where organization_id = ?) order by id',
    [tenant.organizationId],
  );
  return {
    invitations: invitations.map((row) => [row.id, row.state, row.delivery, row.tokenHash, row.expiresAt.toISOString()]),
    outbox: outbox.map((row) => row.id),
    audit: await auditOf(tenant),
    organization: await snapshotOrganization(service, tenant.organizationId),
  };
}

interface AuditEventBody {
  position: number;
  action: string;
  actor: { type: string; id: string };
  target: { type: string; id: string };
  changes: Record<string, [unknown, unknown]>;
}

async function auditOf(tenant: Tenant, query = '?limit=200'): Promise<AuditEventBody[]> {
  const response = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events${query}`);
  if (response.status !== 200) throw new Error(`audit-events answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as AuditEventBody[];
}

/** What `action` returns, and the events it adds to the tenant's chain (oldest first: action, actor, target, changes). */
async function eventsDuring<T>(tenant: Tenant, action: () => Promise<T>) {
  const [head] = await auditOf(tenant, '?limit=1');
  const result = await action();
  const events = (await auditOf(tenant))
    .filter((event) => event.position > (head?.position ?? 0))
    .reverse()
    .map(({ action, actor, target, changes }) => ({ action, actor, target, changes }));
  return [result, events] as const;
}

test('an invitation is mailed through SMTP and its link’s token makes the invitee a member with the role and workspace roles', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const invitee = await makeUser(service);
  const response = await as(service, tenant.admin).send('POST', invitationsOf(tenant.organizationId), {
    email: invitee.email.toUpperCase(),
    role: 'admin',
    workspaces: [{ workspace_id: tenant.spaceId, role: 'editor' }],
  });
  t.is(response.status, 201);
  const text = await response.text();
  const invitation = JSON.parse(text) as InvitationBody;
  t.is(invitation.email, invitee.email);
  t.is(invitation.state, 'pending');
  t.is(invitation.invited_by, tenant.admin.id);

  const mail = await mailbox.waitFor(invitee.email, { subject: INVITATION_SUBJECT });
  const token = tokenIn(mail);
  t.false(text.includes(token), 'the token never appears in a response');
  t.is(mail.subject, 'You are invited to join an organization', 'no name anyone chose reaches the subject');
  t.regex(mail.text ?? '', new RegExp(tenant.admin.username));
  t.true((mail.text ?? '').includes('https://app.example.test/invitations/'));
  t.true(typeof mail.html === 'string' && mail.html.includes(token));
  const stored = await service.orm.em.fork().findOneOrFail(Invitation, { id: invitation.id });
  t.not(stored.tokenHash, token);

  const preview = await service.request(`/api/v1/invitations/${token}`);
  t.is(preview.status, 200);
  const shown = (await preview.json()) as Record<string, string> & { workspaces: unknown };
  t.is(shown.organization_name, `${tenant.owner.username}'s organization`);
  const space = await service.orm.em.fork().findOneOrFail(Workspace, { id: tenant.spaceId });
  t.deepEqual(shown.workspaces, [{ name: space.name, role: 'editor' }], 'what it adds the invitee to, by name');
  t.is(shown.expires_at, invitation.expires_at);
  t.is(shown.inviter_username, tenant.admin.username);
  t.is(shown.role, 'admin');
  t.is(shown.email, `${invitee.email[0]}***@example.com`);

  const accepted = await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`);
  t.is(accepted.status, 200);
  t.truthy(accepted.headers.get('ZedToken'));
  const relationsOn = async (resourceType: string, resourceId: string) =>
    (await service.spicedb.readRelationships({ resourceType, resourceId, subject: { type: 'user', id: invitee.id } })).map((tuple) => tuple.relation);
  t.deepEqual(await relationsOn('organization', tenant.organizationId), ['admin']);
  t.deepEqual(await relationsOn('workspace', tenant.spaceId), ['editor']);
  const em = service.orm.em.fork();
  t.is((await em.findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id })).role, 'admin');
  t.is((await em.findOneOrFail(WorkspaceMembership, { workspace: tenant.spaceId, user: invitee.id })).role, 'editor');

  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 404, 'single use');
  t.is((await service.request(`/api/v1/invitations/${token}`)).status, 404);
  const listed = (await (await as(service, tenant.owner).get(`${invitationsOf(tenant.organizationId)}?state=accepted`)).json()) as InvitationBody[];
  t.deepEqual(listed.map((row) => [row.id, row.state, row.delivery]), [[invitation.id, 'accepted', 'sent']]);
});

test('unknown, used, revoked and expired tokens answer the very same 404', async (t) => {
  const tenant = await makeTenant(service);
  const [a, b, c] = [await makeUser(service), await makeUser(service), await makeUser(service)];
  const used = await invite(tenant.owner, tenant.organizationId, { email: a.email, role: 'member' });
  await as(service, a).send('POST', `/api/v1/invitations/${used.token}/accept`);
  const revoked = await invite(tenant.owner, tenant.organizationId, { email: b.email, role: 'member' });
  t.is((await as(service, tenant.owner).send('DELETE', `${invitationsOf(tenant.organizationId)}/${revoked.invitation.id}`)).status, 204);
  const expired = await invite(tenant.owner, tenant.organizationId, { email: c.email, role: 'member' });
  await service.orm.em.fork().nativeUpdate(Invitation, { id: expired.invitation.id }, { expiresAt: new Date(Date.now() - 1000) });

  const bodies: Array<Record<string, unknown>> = [];
  for (const token of ['x'.repeat(43), used.token, revoked.token, expired.token]) {
    const response = await service.request(`/api/v1/invitations/${token}`);
    t.is(response.status, 404);
    const body = (await response.json()) as Record<string, unknown>;
    delete body.instance;
    delete body.request_id;
    bodies.push(body);
  }
  t.true(bodies.every((body) => JSON.stringify(body) === JSON.stringify(bodies[0])));
  t.is((await as(service, c).send('POST', `/api/v1/invitations/${expired.token}/accept`)).status, 404);
  t.is((await as(service, b).send('POST', `/api/v1/invitations/${revoked.token}/accept`)).status, 404);

  const expiredList = (await (await as(service, tenant.owner).get(`${invitationsOf(tenant.organizationId)}?state=expired`)).json()) as InvitationBody[];
  t.deepEqual(expiredList.map((row) => [row.id, row.state]), [[expired.invitation.id, 'expired']]);
  const revokedList = (await (await as(service, tenant.owner).get(`${invitationsOf(tenant.organizationId)}?state=revoked`)).json()) as InvitationBody[];
  t.deepEqual(revokedList.map((row) => row.id), [revoked.invitation.id]);
});

test('accepting with another email answers 403 and changes nothing; decline closes the invitation', async (t) => {
  const tenant = await makeTenant(service);
  const [invitee, other] = [await makeUser(service), await makeUser(service)];
  const { invitation, token } = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'member' });
  t.is((await as(service, other).send('POST', `/api/v1/invitations/${token}/accept`)).status, 403);
  t.is((await as(service, other).send('POST', `/api/v1/invitations/${token}/decline`)).status, 403);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: other.id }), 0);
  t.is((await service.request(`/api/v1/invitations/${token}`)).status, 200);

  await Promise.all([proveEmail(service, invitee), proveEmail(service, other)]);
  const mine = (await (await as(service, invitee).get('/api/v1/auth/me/invitations')).json()) as Array<{ id: string; inviter_username: string }>;
  t.deepEqual(mine.map((row) => [row.id, row.inviter_username]), [[invitation.id, tenant.owner.username]]);
  t.deepEqual(await (await as(service, other).get('/api/v1/auth/me/invitations')).json(), []);

  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${token}/decline`)).status, 204);
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 404);
  t.deepEqual(await (await as(service, invitee).get('/api/v1/auth/me/invitations')).json(), []);
});

test('concurrent accepts of one token give exactly one membership', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const { token } = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'member' });
  const statuses = await Promise.all(
    [1, 2, 3, 4].map(async () => (await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status),
  );
  t.deepEqual(statuses.sort(), [200, 404, 404, 404]);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id }), 1);
});

test('a member’s email and a pending invitation answer 409; resend kills the old token and mails a new one', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const send = (body: unknown) => as(service, tenant.owner).send('POST', invitationsOf(tenant.organizationId), body);
  t.is((await send({ email: tenant.member.email, role: 'member' })).status, 409);
  const first = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'member', expires_in_days: 1 });
  t.is((await send({ email: invitee.email, role: 'admin' })).status, 409);
  t.is((await send({ email: invitee.email, role: 'member', expires_in_days: 31 })).status, 422);

  const before = mailbox.messages.length;
  const resent = await as(service, tenant.admin).send('POST', `${invitationsOf(tenant.organizationId)}/${first.invitation.id}/resend`);
  t.is(resent.status, 200);
  const body = (await resent.json()) as InvitationBody;
  t.true(new Date(body.expires_at) > new Date(first.invitation.expires_at));
  const newToken = tokenIn(await mailbox.waitFor(invitee.email, { after: before, subject: INVITATION_SUBJECT }));
  t.not(newToken, first.token);
  t.is((await service.request(`/api/v1/invitations/${first.token}`)).status, 404);
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${newToken}/accept`)).status, 200);
});

test('owner and admin may invite, list, resend and revoke; a member, a stranger and another organization’s admin get 403 on each, and a refusal changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const other = await makeTenant(service);
  await onPlan(tenant, 'pro');
  const base = invitationsOf(tenant.organizationId);
  const [a, b] = [await makeUser(service), await makeUser(service)];
  const byOwner = await invite(tenant.owner, tenant.organizationId, { email: a.email, role: 'member' });
  const byAdmin = await invite(tenant.admin, tenant.organizationId, { email: b.email, role: 'admin' });

  const refusedEmail = `${uniqueName()}@example.com`;
  const before = await invitationState(tenant);
  for (const [name, refused] of [['member', tenant.member], ['stranger', tenant.stranger], ['another organization’s admin', other.admin]] as const) {
    const who = as(service, refused);
    const statuses = {
      create: (await who.send('POST', base, { email: refusedEmail, role: 'member' })).status,
      list: (await who.get(base)).status,
      resend: (await who.send('POST', `${base}/${byOwner.invitation.id}/resend`)).status,
      revoke: (await who.send('DELETE', `${base}/${byOwner.invitation.id}`)).status,
    };
    t.deepEqual(statuses, { create: 403, list: 403, resend: 403, revoke: 403 }, name);
  }
  // Under their own organization, another admin finds no such invitation.
  const theirs = invitationsOf(other.organizationId);
  t.is((await as(service, other.admin).send('POST', `${theirs}/${byOwner.invitation.id}/resend`)).status, 404);
  t.is((await as(service, other.admin).send('DELETE', `${theirs}/${byOwner.invitation.id}`)).status, 404);
  // Bad input from the owner is refused before anything is written.
  const owner = as(service, tenant.owner);
  t.is((await owner.send('POST', base, { email: 'not-an-email', role: 'member' })).status, 422);
  t.is((await owner.send('POST', base, { email: refusedEmail, role: 'owner' })).status, 422);
  t.is((await owner.send('POST', base, { email: refusedEmail, role: 'member', workspaces: [{ workspace_id: other.workspaceId, role: 'viewer' }] })).status, 404);
  t.deepEqual(await invitationState(tenant), before);
  t.is(await invitationCount(other), 0);
  t.false(mailbox.messages.some((mail) => mail.envelopeTo.includes(refusedEmail)));

  for (const [name, allowed, someoneElses] of [['owner', tenant.owner, byAdmin], ['admin', tenant.admin, byOwner]] as const) {
    const who = as(service, allowed);
    const created = await invite(allowed, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'admin' });
    t.is(created.invitation.invited_by, allowed.id, name);
    const listed = (await (await who.get(base)).json()) as InvitationBody[];
    t.true([created.invitation.id, someoneElses.invitation.id].every((id) => listed.some((row) => row.id === id)), name);
    t.is((await who.send('POST', `${base}/${someoneElses.invitation.id}/resend`)).status, 200, name);
    t.is((await who.send('DELETE', `${base}/${someoneElses.invitation.id}`)).status, 204, name);
  }
  const states = await service.orm.em.fork().find(Invitation, { id: { $in: [byOwner.invitation.id, byAdmin.invitation.id] } });
  t.deepEqual(states.map((row) => row.state), ['revoked', 'revoked']);
});

test('pending invitations count toward the plan’s member limit', async (t) => {
  const tenant = await makeTenant(service); // free plan: 5 members; owner, admin, member are 3
  await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' });
  const pending = await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' });
  const over = await as(service, tenant.owner).send('POST', invitationsOf(tenant.organizationId), { email: `${uniqueName()}@example.com`, role: 'member' });
  t.is(over.status, 402);
  const stranger = await makeUser(service);
  t.is((await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/members`, { user_id: stranger.id, role: 'member' })).status, 402);
  await as(service, tenant.owner).send('DELETE', `${invitationsOf(tenant.organizationId)}/${pending.invitation.id}`);
  const taken = await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' });

  // An expired invitation gives its seat back, and needs one again to be resent.
  await service.orm.em.fork().nativeUpdate(Invitation, { id: taken.invitation.id }, { expiresAt: new Date(Date.now() - 1000) });
  await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' });
  t.is((await as(service, tenant.owner).send('POST', `${invitationsOf(tenant.organizationId)}/${taken.invitation.id}/resend`)).status, 402);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: taken.invitation.id })).stateAt(), 'expired');
});

test('signup with an invitation token whose email matches joins the organization at once; a mismatch joins nothing', async (t) => {
  const tenant = await makeTenant(service);
  const email = `${uniqueName()}@example.com`;
  const { token } = await invite(tenant.owner, tenant.organizationId, { email, role: 'member' });
  const other = await service.send('POST', '/api/v1/auth/email/signup', {
    username: uniqueName(),
    email: `${uniqueName()}@example.com`,
    password: 'Correct-Horse-9-battery',
    invitation_token: token,
  });
  t.is(other.status, 201);
  const response = await service.send('POST', '/api/v1/auth/email/signup', {
    username: uniqueName(),
    email: email.toUpperCase(),
    password: 'Correct-Horse-9-battery',
    invitation_token: token,
  });
  t.is(response.status, 201);
  const session = (await response.json()) as { user: { id: string } };
  const em = service.orm.em.fork();
  t.is((await em.findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: session.user.id })).role, 'member');
  t.is(await em.count(OrganizationMembership, { user: session.user.id, role: 'owner' }), 1, 'the account still has its own organization');
  t.is(await em.count(OrganizationMembership, { organization: tenant.organizationId }), 4);
  t.is((await service.request(`/api/v1/invitations/${token}`)).status, 404);
});

test('each invitation action records exactly one audit event, with the inviter or the invitee as actor, and never the token or its hash', async (t) => {
  const tenant = await makeTenant(service);
  const [invitee, decliner, uninvited] = [await makeUser(service), await makeUser(service), await makeUser(service)];
  const base = invitationsOf(tenant.organizationId);
  const user = (id: string) => ({ type: 'user', id });
  const target = (id: string) => ({ type: 'invitation', id });
  const tokens: string[] = [];

  const [sent, created] = await eventsDuring(tenant, () =>
    invite(tenant.admin, tenant.organizationId, { email: invitee.email, role: 'admin', workspaces: [{ workspace_id: tenant.workspaceId, role: 'editor' }] }),
  );
  const { invitation } = sent;
  tokens.push(sent.token);
  t.deepEqual(created, [
    {
      action: 'org.invitation.created',
      actor: user(tenant.admin.id),
      target: target(invitation.id),
      changes: { email: [null, invitee.email], role: [null, 'admin'], workspaces: [null, [{ workspace_id: tenant.workspaceId, role: 'editor' }]], expires_at: [null, invitation.expires_at] },
    },
  ]);

  const resend = async () => {
    const before = mailbox.messages.length;
    const body = (await (await as(service, tenant.owner).send('POST', `${base}/${invitation.id}/resend`)).json()) as InvitationBody;
    tokens.push(tokenIn(await mailbox.waitFor(invitee.email, { after: before, subject: INVITATION_SUBJECT })));
    return body;
  };
  const [resent, resentEvents] = await eventsDuring(tenant, resend);
  t.deepEqual(resentEvents, [
    {
      action: 'org.invitation.resent',
      actor: user(tenant.owner.id),
      target: target(invitation.id),
      changes: { invited_by: [tenant.admin.id, tenant.owner.id], expires_at: [invitation.expires_at, resent.expires_at] },
    },
  ]);
  const past = new Date(Date.now() - 60_000);
  await service.orm.em.fork().nativeUpdate(Invitation, { id: invitation.id }, { expiresAt: past });
  const [revived, revivedEvents] = await eventsDuring(tenant, resend);
  t.deepEqual(revivedEvents, [
    {
      action: 'org.invitation.resent',
      actor: user(tenant.owner.id),
      target: target(invitation.id),
      changes: { state: ['expired', 'pending'], expires_at: [past.toISOString(), revived.expires_at] },
    },
  ]);

  const [, accepted] = await eventsDuring(tenant, () => as(service, invitee).send('POST', `/api/v1/invitations/${tokens.at(-1)}/accept`));
  t.deepEqual(accepted, [
    {
      action: 'org.invitation.accepted',
      actor: user(invitee.id),
      target: target(invitation.id),
      changes: {
        state: ['pending', 'accepted'],
        accepted_by: [null, invitee.id],
        role: [null, 'admin'],
        workspaces: [null, [{ workspace_id: tenant.workspaceId, role: 'editor' }]],
      },
    },
  ]);

  const declinedInvitation = await invite(tenant.owner, tenant.organizationId, { email: decliner.email, role: 'member' });
  tokens.push(declinedInvitation.token);
  t.deepEqual((await eventsDuring(tenant, () => as(service, decliner).send('POST', `/api/v1/invitations/${declinedInvitation.token}/decline`)))[1], [
    { action: 'org.invitation.declined', actor: user(decliner.id), target: target(declinedInvitation.invitation.id), changes: { state: ['pending', 'declined'] } },
  ]);
  const toRevoke = await invite(tenant.owner, tenant.organizationId, { email: uninvited.email, role: 'member' });
  tokens.push(toRevoke.token);
  t.deepEqual((await eventsDuring(tenant, () => as(service, tenant.admin).send('DELETE', `${base}/${toRevoke.invitation.id}`)))[1], [
    { action: 'org.invitation.revoked', actor: user(tenant.admin.id), target: target(toRevoke.invitation.id), changes: { state: ['pending', 'revoked'] } },
  ]);

  const email = `${uniqueName()}@example.com`;
  const forSignup = await invite(tenant.owner, tenant.organizationId, { email, role: 'member' });
  tokens.push(forSignup.token);
  const [newcomer, joined] = await eventsDuring(tenant, async () => {
    const response = await service.send('POST', '/api/v1/auth/email/signup', { username: uniqueName(), email, password: 'Correct-Horse-9-battery', invitation_token: forSignup.token });
    return ((await response.json()) as { user: { id: string } }).user.id;
  });
  t.deepEqual(joined, [
    {
      action: 'org.invitation.accepted',
      actor: user(newcomer),
      target: target(forSignup.invitation.id),
      changes: { state: ['pending', 'accepted'], accepted_by: [null, newcomer], role: [null, 'member'] },
    },
  ]);

  const everything = JSON.stringify(await auditOf(tenant));
  const hashes = (await service.orm.em.fork().find(Invitation, { organization: tenant.organizationId })).map((row) => row.tokenHash);
  t.deepEqual([...tokens, ...hashes].filter((secret) => everything.includes(secret)), []);
});

test('an accept racing a revoke ends one way or the other: a member and an accepted invitation, or no membership and a revoked one', async (t) => {
  const tenant = await makeTenant(service);
  await onPlan(tenant, 'pro');
  const outcomes = new Set<string>();
  for (let round = 0; round < 8; round += 1) {
    const invitee = await makeUser(service);
    const { invitation, token } = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'member' });
    const [accept, revoke] = await Promise.all([
      as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`),
      as(service, tenant.admin).send('DELETE', `${invitationsOf(tenant.organizationId)}/${invitation.id}`),
    ]);
    const em = service.orm.em.fork();
    const state = (await em.findOneOrFail(Invitation, { id: invitation.id })).state;
    const members = await em.count(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id });
    const tuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, subject: { type: 'user', id: invitee.id } });
    const events = (await auditOf(tenant, `?target_type=invitation&target_id=${invitation.id}`)).map((event) => event.action).reverse();
    const outcome = [accept.status, revoke.status, state, members, tuples.length, ...events].join(' ');
    t.true(
      [
        '200 409 accepted 1 1 org.invitation.created org.invitation.accepted',
        '404 204 revoked 0 0 org.invitation.created org.invitation.revoked',
      ].includes(outcome),
      `round ${round}: ${outcome}`,
    );
    outcomes.add(outcome);
  }
  t.log(`outcomes seen: ${[...outcomes].join(' | ')}`);
});

test('each state lists under its own filter, a filtered list pages with the filter kept, and my invitations show only open ones', async (t) => {
  const tenant = await makeTenant(service);
  await onPlan(tenant, 'pro');
  const base = invitationsOf(tenant.organizationId);
  const users = { accepted: await makeUser(service), declined: await makeUser(service), revoked: await makeUser(service), expired: await makeUser(service) };
  const made = {
    accepted: await invite(tenant.owner, tenant.organizationId, { email: users.accepted.email, role: 'member' }),
    declined: await invite(tenant.owner, tenant.organizationId, { email: users.declined.email, role: 'member' }),
    revoked: await invite(tenant.owner, tenant.organizationId, { email: users.revoked.email, role: 'member' }),
    expired: await invite(tenant.owner, tenant.organizationId, { email: users.expired.email, role: 'member' }),
    pending: await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' }),
    alsoPending: await invite(tenant.owner, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'member' }),
  };
  t.is((await as(service, users.accepted).send('POST', `/api/v1/invitations/${made.accepted.token}/accept`)).status, 200);
  t.is((await as(service, users.declined).send('POST', `/api/v1/invitations/${made.declined.token}/decline`)).status, 204);
  t.is((await as(service, tenant.owner).send('DELETE', `${base}/${made.revoked.invitation.id}`)).status, 204);
  await service.orm.em.fork().nativeUpdate(Invitation, { id: made.expired.invitation.id }, { expiresAt: new Date(Date.now() - 1000) });

  const listed = async (query: string) => ((await (await as(service, tenant.owner).get(`${base}${query}`)).json()) as InvitationBody[]).map((row) => row.id).sort();
  for (const state of ['accepted', 'declined', 'revoked', 'expired'] as const) {
    t.deepEqual(await listed(`?state=${state}`), [made[state].invitation.id], state);
  }
  t.deepEqual(await listed('?state=pending'), [made.pending.invitation.id, made.alsoPending.invitation.id].sort());
  t.is((await listed('')).length, 6);

  const first = await as(service, tenant.owner).get(`${base}?state=pending&limit=1`);
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('Link') ?? '')?.[1] ?? '';
  t.regex(next, /state=pending/);
  const second = await as(service, tenant.owner).get(next);
  t.is(second.headers.get('Link'), null);
  const pages = [...((await first.json()) as InvitationBody[]), ...((await second.json()) as InvitationBody[])];
  t.deepEqual(pages.map((row) => row.id).sort(), [made.pending.invitation.id, made.alsoPending.invitation.id].sort());

  await Promise.all([proveEmail(service, users.expired), proveEmail(service, users.revoked)]);
  t.deepEqual(await (await as(service, users.expired).get('/api/v1/auth/me/invitations')).json(), [], 'an expired invitation is not offered');
  t.deepEqual(await (await as(service, users.revoked).get('/api/v1/auth/me/invitations')).json(), [], 'nor a revoked one');
});

test('closed invitations answer 409 to revoke and resend, an expired one can be resent to life, and none of the refusals records anything', async (t) => {
  const tenant = await makeTenant(service);
  const base = invitationsOf(tenant.organizationId);
  const [joiner, decliner, late] = [await makeUser(service), await makeUser(service), await makeUser(service)];
  const accepted = await invite(tenant.owner, tenant.organizationId, { email: joiner.email, role: 'member' });
  t.is((await as(service, joiner).send('POST', `/api/v1/invitations/${accepted.token}/accept`)).status, 200);
  const declined = await invite(tenant.owner, tenant.organizationId, { email: decliner.email, role: 'member' });
  t.is((await as(service, decliner).send('POST', `/api/v1/invitations/${declined.token}/decline`)).status, 204);
  const expired = await invite(tenant.owner, tenant.organizationId, { email: late.email, role: 'member' });
  await service.orm.em.fork().nativeUpdate(Invitation, { id: expired.invitation.id }, { expiresAt: new Date(Date.now() - 1000) });

  const before = await invitationState(tenant);
  const owner = as(service, tenant.owner);
  for (const closed of [accepted, declined]) {
    t.is((await owner.send('DELETE', `${base}/${closed.invitation.id}`)).status, 409);
    t.is((await owner.send('POST', `${base}/${closed.invitation.id}/resend`)).status, 409);
  }
  t.is((await owner.send('DELETE', `${base}/${expired.invitation.id}`)).status, 409, 'an expired invitation is closed already');
  t.is((await owner.send('POST', base, { email: joiner.email, role: 'member' })).status, 409, 'a member');
  t.is((await as(service, joiner).send('POST', `/api/v1/invitations/${accepted.token}/accept`)).status, 404, 'used');
  t.is((await as(service, late).send('POST', `/api/v1/invitations/${expired.token}/accept`)).status, 404, 'expired');
  t.is((await as(service, joiner).send('POST', `/api/v1/invitations/${declined.token}/decline`)).status, 404, 'declined');
  t.deepEqual(await invitationState(tenant), before);

  const mailsBefore = mailbox.messages.length;
  const revived = await owner.send('POST', `${base}/${expired.invitation.id}/resend`);
  t.is(revived.status, 200);
  t.is(((await revived.json()) as InvitationBody).state, 'pending');
  const token = tokenIn(await mailbox.waitFor(late.email, { after: mailsBefore, subject: INVITATION_SUBJECT }));
  t.is((await as(service, late).send('POST', `/api/v1/invitations/${token}/accept`)).status, 200);
});

test('an invitee who became a member another way gets 409 on accept, and the invitation stays open', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const { invitation, token } = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'admin' });
  await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, invitee.id, 'member'));
  const before = await invitationState(tenant);
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 409);
  t.deepEqual(await invitationState(tenant), before);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: invitation.id })).state, 'pending');
  t.is((await as(service, tenant.owner).send('DELETE', `${invitationsOf(tenant.organizationId)}/${invitation.id}`)).status, 204, 'the admin can still revoke it');
});

const members = (tenant: Tenant) => `/api/v1/orgs/${tenant.organizationId}/members`;
const userRef = (id: string) => ({ type: 'user', id });
const invitationRef = (id: string) => ({ type: 'invitation', id });
const lostAuthority = { state: ['pending', 'revoked'], reason: [null, 'inviter_lost_authority'] };

test('removing an inviter revokes the invitations they sent in the same unit of work, audited, and their token then joins no one', async (t) => {
  const tenant = await makeTenant(service);
  await onPlan(tenant, 'pro');
  // The admin invites their own second address as admin, and is then removed.
  const [secondAddress, invitedByOwner] = [await makeUser(service), await makeUser(service)];
  const byAdmin = await invite(tenant.admin, tenant.organizationId, { email: secondAddress.email, role: 'admin' });
  const byOwner = await invite(tenant.owner, tenant.organizationId, { email: invitedByOwner.email, role: 'member' });

  const [removed, events] = await eventsDuring(tenant, () => as(service, tenant.owner).send('DELETE', `${members(tenant)}/${tenant.admin.id}`));
  t.is(removed.status, 204);
  t.deepEqual(events, [
    { action: 'org.member.removed', actor: userRef(tenant.owner.id), target: userRef(tenant.admin.id), changes: { role: ['admin', null] } },
    { action: 'org.invitation.revoked', actor: userRef(tenant.owner.id), target: invitationRef(byAdmin.invitation.id), changes: lostAuthority },
  ]);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: byAdmin.invitation.id })).state, 'revoked');
  t.is((await as(service, secondAddress).send('POST', `/api/v1/invitations/${byAdmin.token}/accept`)).status, 404);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: secondAddress.id }), 0);
  t.is((await as(service, secondAddress).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { name: 'Taken over' })).status, 403);
  t.is((await as(service, invitedByOwner).send('POST', `/api/v1/invitations/${byOwner.token}/accept`)).status, 200, 'the owner’s invitation stands');
});

test('demoting an inviter to member revokes the invitations they can no longer send, audited; promoting them again revives none', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const byAdmin = await invite(tenant.admin, tenant.organizationId, { email: invitee.email, role: 'member' });
  const [demoted, events] = await eventsDuring(tenant, () => as(service, tenant.owner).send('PATCH', `${members(tenant)}/${tenant.admin.id}`, { role: 'member' }));
  t.is(demoted.status, 200);
  t.deepEqual(events, [
    { action: 'org.member.role_changed', actor: userRef(tenant.owner.id), target: userRef(tenant.admin.id), changes: { role: ['admin', 'member'] } },
    { action: 'org.invitation.revoked', actor: userRef(tenant.owner.id), target: invitationRef(byAdmin.invitation.id), changes: lostAuthority },
  ]);
  t.is((await as(service, tenant.owner).send('PATCH', `${members(tenant)}/${tenant.admin.id}`, { role: 'admin' })).status, 200);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: byAdmin.invitation.id })).state, 'revoked');
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${byAdmin.token}/accept`)).status, 404);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: byAdmin.invitation.id })).state, 'revoked');
});

test('accept asks SpiceDB again: an invitation whose inviter no longer holds org:invite is revoked instead, audited, with the same 404', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const { invitation, token } = await invite(tenant.admin, tenant.organizationId, { email: invitee.email, role: 'admin' });
  // A demotion that revoked nothing (recorded before this rule existed): both stores, and the
  // organization's ZedToken, say member, and the invitation is still pending.
  const tuple = (relation: string) => ({ resource: { type: 'organization', id: tenant.organizationId }, relation, subject: userRef(tenant.admin.id) });
  const written = await service.spicedb.writeRelationships(roleChange(tuple('admin'), tuple('member')));
  const em = service.orm.em.fork();
  await em.nativeUpdate(OrganizationMembership, { organization: tenant.organizationId, user: tenant.admin.id }, { role: 'member' });
  await em.nativeUpdate(Organization, { id: tenant.organizationId }, { zedToken: written });

  const unknown = await as(service, invitee).send('POST', `/api/v1/invitations/${'x'.repeat(43)}/accept`);
  const [refused, events] = await eventsDuring(tenant, () => as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`));
  t.is(refused.status, 404);
  t.is(((await refused.json()) as { detail: string }).detail, ((await unknown.json()) as { detail: string }).detail);
  t.deepEqual(events, [
    { action: 'org.invitation.revoked', actor: { type: 'system', id: 'inviter_authority' }, target: invitationRef(invitation.id), changes: lostAuthority },
  ]);
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id }), 0);
  const tuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: tenant.organizationId, subject: userRef(invitee.id) });
  t.deepEqual(tuples, []);
});

interface MeBody {
  user: { email: string; email_verified_at: string | null };
}

const emailVerifiedAt = async (user: SignedUpUser) => ((await (await as(service, user).get('/api/v1/auth/me')).json()) as MeBody).user.email_verified_at;

test('an account that registered an invitee’s address but never proved it sees nothing by email and accepts nothing by id; the mailed token still works and proves the address', async (t) => {
  const tenant = await makeTenant(service);
  const email = `${uniqueName()}@example.com`;
  const { invitation, token } = await invite(tenant.owner, tenant.organizationId, { email, role: 'member' });
  const squatter = await makeUser(service, { email });
  t.is(await emailVerifiedAt(squatter), null, 'a new account starts unverified');

  t.deepEqual(await (await as(service, squatter).get('/api/v1/auth/me/invitations')).json(), []);
  const byId = await as(service, squatter).send('POST', `/api/v1/auth/me/invitations/${invitation.id}/accept`);
  const unknownId = await as(service, squatter).send('POST', '/api/v1/auth/me/invitations/00000000-0000-4000-8000-000000000000/accept');
  t.is(byId.status, 404);
  t.is(((await byId.json()) as { detail: string }).detail, ((await unknownId.json()) as { detail: string }).detail, 'as if there were none');
  t.is((await as(service, squatter).send('POST', `/api/v1/auth/me/invitations/${invitation.id}/decline`)).status, 404);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id: invitation.id })).state, 'pending');
  t.is(await service.orm.em.fork().count(OrganizationMembership, { organization: tenant.organizationId, user: squatter.id }), 0);

  // Whoever holds the mailed token reads that mailbox.
  t.is((await as(service, squatter).send('POST', `/api/v1/invitations/${token}/accept`)).status, 200);
  t.truthy(await emailVerifiedAt(squatter), 'the token proved the address');
});

test('a proven address sees its invitations and accepts them by id, which proves nothing more', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const { invitation } = await invite(tenant.admin, tenant.organizationId, { email: invitee.email, role: 'member' });
  await proveEmail(service, invitee);
  const mine = (await (await as(service, invitee).get('/api/v1/auth/me/invitations')).json()) as Array<{ id: string }>;
  t.deepEqual(mine.map((row) => row.id), [invitation.id]);
  const accepted = await as(service, invitee).send('POST', `/api/v1/auth/me/invitations/${invitation.id}/accept`);
  t.is(accepted.status, 200);
  t.truthy(accepted.headers.get('ZedToken'));
  t.is((await service.orm.em.fork().findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id })).role, 'member');

  // A membership proposed to an account is its own to answer by id, proven or not, and leaves it unproven.
  const other = await makeTenant(service);
  const unproven = await makeUser(service);
  const proposed = (await (await as(service, other.owner).send('POST', members(other), { user_id: unproven.id, role: 'member' })).json()) as { id: string };
  t.is((await as(service, unproven).send('POST', `/api/v1/auth/me/invitations/${proposed.id}/accept`)).status, 200);
  t.is(await emailVerifiedAt(unproven), null);
});

test('a membership proposed to an account is mailed to its address, and the mailed token accepts it for that account alone', async (t) => {
  const tenant = await makeTenant(service);
  const [invitee, other] = [await makeUser(service), await makeUser(service)];
  const before = mailbox.messages.length;
  const proposed = await as(service, tenant.owner).send('POST', members(tenant), { user_id: invitee.id, role: 'member' });
  t.is(proposed.status, 200);
  const token = tokenIn(await mailbox.waitFor(invitee.email, { after: before, subject: INVITATION_SUBJECT }));
  t.is((await as(service, other).send('POST', `/api/v1/invitations/${token}/accept`)).status, 403);
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 200);
  t.is((await service.orm.em.fork().findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: invitee.id })).role, 'member');
});
