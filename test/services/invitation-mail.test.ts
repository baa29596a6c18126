import test from 'ava';
import { eventually } from '../support/eventually.ts';
import { Invitation } from '../../src/db/entities/index.ts';
import { createMailer } from '../../src/mail/mailer.ts';
import { INVITATION_SUBJECT, renderInvitationMessage } from '../../src/mail/invitation-message.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { as, makeTenant, makeUser, type SignedUpUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { startMailbox, tokenIn, type TestMailbox } from '../support/smtp.ts';
import { startTestService, useTestService, type TestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100' } };
});
test.after.always(async () => {
  await mailbox?.close();
});

async function deliveryOf(id: string): Promise<string> {
  return (await service.orm.em.fork().findOneOrFail(Invitation, { id })).delivery;
}

/** The invitation's delivery as the list shows it, once it is no longer pending (or pending at the deadline). */
async function settledDelivery(local: TestService, owner: SignedUpUser, organizationId: string, id: string): Promise<string | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const listed = (await (await as(local, owner).get(`/api/v1/orgs/${organizationId}/invitations`)).json()) as Array<{ id: string; delivery: string }>;
    const delivery = listed.find((row) => row.id === id)?.delivery;
    if (delivery !== 'pending' || Date.now() > deadline) return delivery;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test.serial('an SMTP outage loses no invitation: delivery stays pending, then the message goes out once the server is back', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  await mailbox.close();
  const response = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: invitee.email, role: 'member' });
  t.is(response.status, 201);
  const { id } = (await response.json()) as { id: string };
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.is(await deliveryOf(id), 'pending');
  const [row] = await service.orm.em.fork().getConnection().execute<Array<{ attempts: number }>>('select attempts from mail_outbox where invitation_id = ?', [id]);
  t.true((row?.attempts ?? 0) >= 1, 'a send was tried and failed');

  await mailbox.restart();
  const mail = await mailbox.waitFor(invitee.email, { timeoutMs: 20_000, subject: INVITATION_SUBJECT });
  // The SMTP server holds the message a moment before the outbox records it as sent.
  t.is(await settledDelivery(service, tenant.owner, tenant.organizationId, id), 'sent');
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${tokenIn(mail)}/accept`)).status, 200);
});

test('a message the SMTP server keeps refusing is dropped after MAIL_MAX_ATTEMPTS sends and the invitation reads delivery: failed; a resend delivers', async (t) => {
  const refusing = await startMailbox();
  const local = await startTestService({
    environment: { SMTP_URL: refusing.url, OUTBOX_POLL_MS: '100', MAIL_MAX_ATTEMPTS: '3', INVITATION_RESEND_COOLDOWN_SECONDS: '0' },
  });
  try {
    const tenant = await makeTenant(local);
    const invitee = await makeUser(local);
    // Their signups' verification mails are delivered first (a send the relay's own cycle holds
    // included): only the invitation meets a refusal.
    await local.mailRelay.drain();
    const outboxEmpty = async () => Number((await local.orm.em.fork().execute<Array<{ n: string }>>('select count(*) as n from mail_outbox'))[0]?.n) === 0;
    t.true(await eventually(outboxEmpty));
    refusing.refuse(true);
    const base = `/api/v1/orgs/${tenant.organizationId}/invitations`;
    const created = await as(local, tenant.owner).send('POST', base, { email: invitee.email, role: 'member' });
    t.is(created.status, 201);
    const { id, delivery } = (await created.json()) as { id: string; delivery: string };
    t.is(delivery, 'pending');

    t.is(await settledDelivery(local, tenant.owner, tenant.organizationId, id), 'failed');
    t.is(refusing.refusals, 3, 'exactly MAIL_MAX_ATTEMPTS sends were tried');
    t.false(refusing.messages.some((mail) => mail.subject === INVITATION_SUBJECT));
    const rows = await local.orm.em.fork().getConnection().execute('select id from mail_outbox where invitation_id = ?', [id]);
    t.is(rows.length, 0, 'the link does not outlive the delivery in the database');

    refusing.refuse(false);
    const resent = await as(local, tenant.owner).send('POST', `${base}/${id}/resend`);
    t.is(((await resent.json()) as { delivery: string }).delivery, 'pending');
    const mail = await refusing.waitFor(invitee.email, { subject: INVITATION_SUBJECT });
    t.is(await settledDelivery(local, tenant.owner, tenant.organizationId, id), 'sent');
    t.is((await as(local, invitee).send('POST', `/api/v1/invitations/${tokenIn(mail)}/accept`)).status, 200);
  } finally {
    await local.stop();
    await refusing.close();
  }
});

test('a name with CR/LF adds neither a header, nor a recipient, nor a line of its own to the message; HTML in it is escaped', async (t) => {
  const rendered = renderInvitationMessage({
    organizationName: 'Acme <img src=x onerror=alert(1)>\r\nBcc: victim@evil.test',
    inviterName: 'mallory\nX-Injected: yes',
    role: 'member',
    link: 'https://app.example.test/api/v1/invitations/abc',
    expiresAt: new Date(),
  });
  const mailer = createMailer({ smtpUrl: mailbox.url, from: 'tenant-authz <no-reply@example.test>' }, createLogger('silent'));
  const before = mailbox.messages.length;
  await mailer.send({ to: 'invitee@example.test', ...rendered });
  mailer.close();
  const mail = await mailbox.waitFor('invitee@example.test', { after: before, subject: INVITATION_SUBJECT });
  t.deepEqual(mail.envelopeTo, ['invitee@example.test']);
  t.is(mail.bcc, undefined);
  t.false(mail.headers.has('x-injected'));
  t.false(mail.headers.has('bcc'));
  t.is(mail.subject, INVITATION_SUBJECT, 'names chosen by anyone stay out of the subject');
  // The text body keeps the template's lines: a name cannot start one (a forged "Accept:" link, say).
  const lines = (mail.text ?? '').split('\n');
  t.is(lines[0], 'mallory X-Injected: yes invited you to join the organization "Acme <img src=x onerror=alert(1)> Bcc: victim@evil.test" as member.');
  t.deepEqual(lines.filter((line) => /^(bcc|x-injected):/i.test(line)), []);
  t.false(String(mail.html).includes('<img'));
  t.true(String(mail.html).includes('Acme &#60;img src=x onerror=alert(1)&#62; Bcc: victim@evil.test'));
});

test('a rename with CR/LF through the API is refused (422, test/security/hostile-input.test.ts), and the invitation still sends one clean message to the invitee alone', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const renamed = await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { name: 'Acme\r\nBcc: victim@evil.test\r\n\r\nAccept here: https://evil.test' });
  t.is(renamed.status, 422);
  const before = mailbox.messages.length;
  t.is((await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: invitee.email, role: 'member' })).status, 201);
  const mail = await mailbox.waitFor(invitee.email, { after: before, subject: INVITATION_SUBJECT });
  t.deepEqual(mail.envelopeTo, [invitee.email]);
  t.false(mail.headers.has('bcc'));
  t.deepEqual((mail.text ?? '').split('\n').filter((line) => /^(bcc:|accept here)/i.test(line)), []);
  t.is((mail.text ?? '').split('\n').filter((line) => line.includes('://')).length, 1, 'one link: the real one');
});

test('without SMTP_URL the message, with its link, is logged at info level, the boot log says so, and the invitation reads delivery: logged', async (t) => {
  const logLines: string[] = [];
  const local = await startTestService({ environment: { LOG_LEVEL: 'info', SMTP_URL: '', OUTBOX_POLL_MS: '100' }, logLines });
  try {
    t.true(logLines.some((line) => line.includes('SMTP_URL is unset')));
    const tenant = await makeTenant(local);
    const invitee = await makeUser(local);
    const response = await as(local, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: invitee.email, role: 'member' });
    t.is(response.status, 201);
    const deadline = Date.now() + 10_000;
    let logged: { level: number; mail: { to: string; text: string } } | undefined;
    while (!logged && Date.now() < deadline) {
      logged = logLines.map((line) => JSON.parse(line) as { level: number; mail?: { to: string; text: string } })
        .find((entry): entry is { level: number; mail: { to: string; text: string } } => entry.mail?.to === invitee.email && entry.mail.text.includes('/invitations/'));
      if (!logged) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.is(logged?.level, 30);
    t.is(await settledDelivery(local, tenant.owner, tenant.organizationId, ((await response.json()) as { id: string }).id), 'logged', 'not "sent": it reached no one');
    const token = /\/invitations\/([A-Za-z0-9_-]{20,})/.exec(logged?.mail.text ?? '')?.[1] ?? '';
    t.is((await as(local, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 200);
  } finally {
    await local.stop();
  }
});

const mailsTo = (box: TestMailbox, address: string) =>
  box.messages.filter((mail) => mail.envelopeTo.includes(address) && mail.subject === INVITATION_SUBJECT).length;

test('resends within the cooldown answer 429 with Retry-After and send nothing: 15 resends in a row deliver no second mail', async (t) => {
  const tenant = await makeTenant(service);
  const invitee = await makeUser(service);
  const base = `/api/v1/orgs/${tenant.organizationId}/invitations`;
  const created = await as(service, tenant.owner).send('POST', base, { email: invitee.email, role: 'member' });
  t.is(created.status, 201);
  const { id } = (await created.json()) as { id: string };
  const mail = await mailbox.waitFor(invitee.email, { subject: INVITATION_SUBJECT });
  const tokenHash = (await service.orm.em.fork().findOneOrFail(Invitation, { id })).tokenHash;

  const answers = [];
  for (let resend = 0; resend < 15; resend += 1) {
    const response = await as(service, resend % 2 ? tenant.admin : tenant.owner).send('POST', `${base}/${id}/resend`);
    answers.push({ status: response.status, retryAfter: Number(response.headers.get('retry-after')) });
  }
  t.true(answers.every(({ status }) => status === 429), JSON.stringify(answers));
  t.true(answers.every(({ retryAfter }) => retryAfter >= 1 && retryAfter <= 300), 'Retry-After: what is left of the 300 s cooldown');
  await service.mailRelay.drain();
  t.is(mailsTo(mailbox, invitee.email), 1);
  t.is((await service.orm.em.fork().findOneOrFail(Invitation, { id })).tokenHash, tokenHash, 'the mailed token still works');
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${tokenIn(mail)}/accept`)).status, 200);
});

test('an inviter past INVITATION_MAILS_PER_INVITER, in any of their organizations, and an organization past INVITATION_MAILS_PER_ORGANIZATION, whoever sends, get 429 with Retry-After and write nothing', async (t) => {
  const local = await startTestService({
    environment: {
      SMTP_URL: mailbox.url,
      OUTBOX_POLL_MS: '100',
      INVITATION_MAILS_PER_INVITER: '3',
      INVITATION_MAILS_PER_ORGANIZATION: '4',
      INVITATION_MAIL_WINDOW_SECONDS: '3600',
      INVITATION_RESEND_COOLDOWN_SECONDS: '0',
      PLAN_LIMITS: JSON.stringify({ free: { members: 100, workspaces: 3 }, pro: { members: 100, workspaces: 20 }, enterprise: { members: null, workspaces: null } }),
    },
  });
  t.teardown(() => local.stop());
  const [owner, admin, stranger] = [await makeUser(local), await makeUser(local), await makeUser(local)];
  await seed(local, ({ members }) => members.add(OPERATOR, owner.organizationId, admin.id, 'admin'));
  const second = ((await (await as(local, owner).send('POST', '/api/v1/orgs', { name: 'Second' })).json()) as { id: string }).id;
  const invite = (who: SignedUpUser, organizationId: string) =>
    as(local, who).send('POST', `/api/v1/orgs/${organizationId}/invitations`, { email: `${uniqueAddress()}`, role: 'member' });
  const written = async () => local.orm.em.fork().count(Invitation, {});

  // The owner: two in their organization, one in the second: three, their limit.
  for (const organizationId of [owner.organizationId, owner.organizationId, second]) t.is((await invite(owner, organizationId)).status, 201);
  const before = { invitations: await written() };
  const overInviter = [await invite(owner, second), await as(local, owner).send('POST', `/api/v1/orgs/${owner.organizationId}/members`, { user_id: stranger.id, role: 'member' })];
  for (const response of overInviter) {
    t.is(response.status, 429);
    const retryAfter = Number(response.headers.get('retry-after'));
    t.true(retryAfter > 3000 && retryAfter <= 3600, `Retry-After ${retryAfter}: when the oldest of the three leaves the hour`);
    t.regex(((await response.json()) as { detail: string }).detail, /You have sent 3 invitation mails/);
  }
  t.is(await written(), before.invitations);

  // The admin in the owner's organization: two more make four, the organization's limit.
  t.is((await invite(admin, owner.organizationId)).status, 201);
  t.is((await invite(admin, owner.organizationId)).status, 201);
  const overOrganization = await invite(admin, owner.organizationId);
  t.is(overOrganization.status, 429);
  t.true(Number(overOrganization.headers.get('retry-after')) > 3000);
  t.regex(((await overOrganization.json()) as { detail: string }).detail, /This organization has sent 4 invitation mails/);
  const resent = await as(local, admin).send('POST', `/api/v1/orgs/${owner.organizationId}/invitations/${(await local.orm.em.fork().findOneOrFail(Invitation, { invitedBy: admin.id }, { orderBy: { createdAt: 'asc' } })).id}/resend`);
  t.is(resent.status, 429, 'a resend counts against the limits too');
  t.regex(((await resent.json()) as { detail: string }).detail, /This organization has sent 4/);
  t.is(await written(), before.invitations + 2);

  // The window slides: once the owner's mails are an hour old, both have room again.
  await local.orm.em.fork().getConnection().execute(`update invitation_mailings set created_at = now() - interval '3601 seconds' where inviter_id = ?`, [owner.id]);
  const last = await invite(owner, owner.organizationId);
  t.is(last.status, 201);
  await mailbox.waitFor(((await last.json()) as { email: string }).email);
  await local.mailRelay.drain();
  const sent = mailbox.messages.filter((mail) => mail.envelopeTo.some((address) => address.endsWith('@limits.example.test'))).length;
  t.is(sent, 6, 'one mail for each invitation written, none for a refusal');
});

let addresses = 0;
function uniqueAddress(): string {
  addresses += 1;
  return `invitee-${process.pid}-${addresses}@limits.example.test`;
}
