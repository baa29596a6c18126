import test from 'ava';
import { Invitation } from '../../src/db/entities/index.ts';
import { createMailer } from '../../src/mail/mailer.ts';
import { renderInvitationMessage } from '../../src/mail/invitation-message.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { as, makeTenant, makeUser } from '../support/factories.ts';
import { startMailbox, tokenIn, type TestMailbox } from '../support/smtp.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

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
  const mail = await mailbox.waitFor(invitee.email, { timeoutMs: 20_000 });
  t.is(await deliveryOf(id), 'sent');
  t.is((await as(service, invitee).send('POST', `/api/v1/invitations/${tokenIn(mail)}/accept`)).status, 200);
});

test('a name with CR/LF cannot add a header: the message has one recipient and no injected header', async (t) => {
  const rendered = renderInvitationMessage({
    organizationName: 'Acme\r\nBcc: victim@evil.test',
    inviterName: 'mallory\nX-Injected: yes',
    role: 'member',
    link: 'https://app.example.test/api/v1/invitations/abc',
    expiresAt: new Date(),
  });
  const mailer = createMailer({ smtpUrl: mailbox.url, from: 'tenant-authz <no-reply@example.test>' }, createLogger('silent'));
  const before = mailbox.messages.length;
  await mailer.send({ to: 'invitee@example.test', ...rendered });
  mailer.close();
  const mail = await mailbox.waitFor('invitee@example.test', { after: before });
  t.is(mail.bcc, undefined);
  t.false(mail.headers.has('x-injected'));
  t.false(mail.headers.has('bcc'));
  t.is(mail.subject, 'mallory X-Injected: yes invited you to join Acme Bcc: victim@evil.test');
});

test('without SMTP_URL the message, with its link, is logged at info level, and the boot log says so', async (t) => {
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
        .find((entry): entry is { level: number; mail: { to: string; text: string } } => entry.mail?.to === invitee.email);
      if (!logged) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.is(logged?.level, 30);
    const token = /\/api\/v1\/invitations\/([A-Za-z0-9_-]{20,})/.exec(logged?.mail.text ?? '')?.[1] ?? '';
    t.is((await as(local, invitee).send('POST', `/api/v1/invitations/${token}/accept`)).status, 200);
  } finally {
    await local.stop();
  }
});
