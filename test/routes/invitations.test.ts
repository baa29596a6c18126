import test from 'ava';
import { Invitation, OrganizationMembership, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { as, makeTenant, makeUser, makeWorkspaceTenant, uniqueName, type SignedUpUser } from '../support/factories.ts';
import { startMailbox, tokenIn, type TestMailbox } from '../support/smtp.ts';
import { useTestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, PUBLIC_URL: 'https://app.example.test', OUTBOX_POLL_MS: '100' } };
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
  const mail = await mailbox.waitFor(invitation.email, { after: before });
  return { invitation, token: tokenIn(mail) };
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

  const mail = await mailbox.waitFor(invitee.email);
  const token = tokenIn(mail);
  t.false(text.includes(token), 'the token never appears in a response');
  t.regex(mail.subject ?? '', new RegExp(tenant.admin.username));
  t.true((mail.text ?? '').includes('https://app.example.test/api/v1/invitations/'));
  t.true(typeof mail.html === 'string' && mail.html.includes(token));
  const stored = await service.orm.em.fork().findOneOrFail(Invitation, { id: invitation.id });
  t.not(stored.tokenHash, token);

  const preview = await service.request(`/api/v1/invitations/${token}`);
  t.is(preview.status, 200);
  const shown = (await preview.json()) as Record<string, string>;
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
  const newToken = tokenIn(await mailbox.waitFor(invitee.email, { after: before }));
  t.not(newToken, first.token);
  t.is((await service.request(`/api/v1/invitations/${first.token}`)).status, 404);
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${newToken}/accept`)).status, 200);
});

test('only those with org:invite may invite, list, revoke and resend; a refusal changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const { invitation } = await invite(tenant.owner, tenant.organizationId, { email: invitee.email, role: 'member' });
  const base = invitationsOf(tenant.organizationId);
  for (const refused of [tenant.member, tenant.stranger]) {
    const who = as(service, refused);
    t.is((await who.send('POST', base, { email: `${uniqueName()}@example.com`, role: 'member' })).status, 403);
    t.is((await who.get(base)).status, 403);
    t.is((await who.send('DELETE', `${base}/${invitation.id}`)).status, 403);
    t.is((await who.send('POST', `${base}/${invitation.id}/resend`)).status, 403);
  }
  const em = service.orm.em.fork();
  t.is(await em.count(Invitation, { organization: tenant.organizationId }), 1);
  t.is((await em.findOneOrFail(Invitation, { id: invitation.id })).state, 'pending');
  for (const allowed of [tenant.owner, tenant.admin]) {
    t.is((await as(service, allowed).get(base)).status, 200);
  }
  const created = await invite(tenant.admin, tenant.organizationId, { email: `${uniqueName()}@example.com`, role: 'admin' });
  t.is(created.invitation.role, 'admin');
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
  t.is((await as(service, tenant.owner).send('POST', invitationsOf(tenant.organizationId), { email: `${uniqueName()}@example.com`, role: 'member' })).status, 201);
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
