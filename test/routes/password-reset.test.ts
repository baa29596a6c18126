import { randomBytes } from 'node:crypto';
import test from 'ava';
import { as, bearer, signUp, uniqueName } from '../support/factories.ts';
import { ageMailedTokens, mailedToken } from '../support/account-mail.ts';
import { startMailbox, type TestMailbox } from '../support/smtp.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100', ACCOUNT_MAIL_MAX_PER_ACCOUNT: '3' } };
});
test.after.always(async () => {
  await mailbox?.close();
});

const forgot = (email: string) => service.send('POST', '/api/v1/auth/password/forgot', { email });
const reset = (token: string, password: string) => service.send('POST', '/api/v1/auth/password/reset', { token, password });
const login = (email: string, password: string) => service.send('POST', '/api/v1/auth/email/login', { email, password });
const signIn = async (email: string, password: string) => (await (await login(email, password)).json()) as { access_token: string; refresh_token: string };

test('forgot answers the same whether or not the address has an account; only an account gets a mail, whose link says what it does', async (t) => {
  const user = await signUp(service);
  const stranger = `${uniqueName('nobody')}@example.com`;
  const known = await forgot(user.email);
  const unknown = await forgot(stranger);
  t.is(known.status, 202);
  t.is(unknown.status, 202);
  t.is(await known.text(), await unknown.text());
  const token = await mailedToken(mailbox, user.email, 'reset-password');
  t.truthy(token);
  const mail = mailbox.messages.find((message) => message.subject === 'Choose a new password' && message.envelopeTo.includes(user.email));
  t.regex(mail?.text ?? '', /Open the link to choose a new password\. Every session of the account is then signed out/);
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(mailbox.messages.some((message) => message.envelopeTo.includes(stranger)));
});

test('a reset sets the new password and ends every session of the account, on access and refresh tokens alike', async (t) => {
  const user = await signUp(service);
  const other = await signIn(user.email, user.password);
  t.is((await forgot(user.email)).status, 202);
  t.is((await reset(await mailedToken(mailbox, user.email, 'reset-password'), 'Brand-new-secret-77')).status, 204);

  for (const session of [{ access: user.accessToken, refresh: user.refreshToken }, { access: other.access_token, refresh: other.refresh_token }]) {
    t.is((await service.request('/api/v1/auth/me', { headers: bearer(session.access) })).status, 401);
    t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: session.refresh })).status, 401);
  }
  t.is((await login(user.email, user.password)).status, 401);
  t.is((await login(user.email, 'Brand-new-secret-77')).status, 200);
});

test('a reset token is single-use and dies with time; a weak password is 422 and leaves it usable', async (t) => {
  const user = await signUp(service);
  await forgot(user.email);
  const token = await mailedToken(mailbox, user.email, 'reset-password');
  const weak = await reset(token, 'password1');
  t.is(weak.status, 422);
  t.is(((await weak.json()) as { errors: Array<{ field: string }> }).errors[0]?.field, 'body.password');
  t.is((await reset(token, 'Strong-enough-now-31')).status, 204);
  const again = await reset(token, 'Another-strong-one-32');
  t.is(again.status, 404);

  const late = await signUp(service);
  await forgot(late.email);
  const lateToken = await mailedToken(mailbox, late.email, 'reset-password');
  await ageMailedTokens(service, late.id, 31 * 60);
  const expired = await reset(lateToken, 'Strong-enough-now-33');
  t.is(expired.status, 404);
  const unknown = await reset('B'.repeat(43), 'Strong-enough-now-34');
  const strip = async (response: Response) => {
    const { type, title, status, detail } = (await response.json()) as Record<string, unknown>;
    return { type, title, status, detail };
  };
  t.deepEqual(await strip(expired), await strip(unknown));
  t.is((await login(late.email, late.password)).status, 200, 'the password stands');
});

test('forgot is throttled per address typed, whether or not it has an account (ACCOUNT_MAIL_MAX_PER_ACCOUNT = 3)', async (t) => {
  const user = await signUp(service);
  const stranger = `${uniqueName('nobody')}@example.com`;
  for (const email of [user.email, stranger]) {
    for (let i = 0; i < 3; i += 1) t.is((await forgot(email)).status, 202);
    const refused = await forgot(email);
    t.is(refused.status, 429);
    t.truthy(refused.headers.get('retry-after'));
  }
  t.is((await forgot(`${uniqueName('other')}@example.com`)).status, 202, 'another address is not held back');
});

test('one client address gets its share of asks and of tokens tried (ACCOUNT_MAIL_MAX_PER_ADDRESS), whatever addresses it types', async (t) => {
  const local = await startTestService({ environment: { ACCOUNT_MAIL_MAX_PER_ADDRESS: '3' } });
  try {
    for (let i = 0; i < 3; i += 1) t.is((await local.send('POST', '/api/v1/auth/password/forgot', { email: `${uniqueName('spray')}@example.com` })).status, 202);
    t.is((await local.send('POST', '/api/v1/auth/password/forgot', { email: `${uniqueName('spray')}@example.com` })).status, 429);
    const guess = () => local.send('POST', '/api/v1/auth/password/reset', { token: randomBytes(32).toString('base64url'), password: 'Guessing-all-day-long-1' });
    for (let i = 0; i < 3; i += 1) t.is((await guess()).status, 404);
    t.is((await guess()).status, 429);
  } finally {
    await local.stop();
  }
});

test('an account is mailed at most one reset link per cooldown, however often forgot is asked', async (t) => {
  const user = await signUp(service);
  await forgot(user.email);
  await mailedToken(mailbox, user.email, 'reset-password');
  await forgot(user.email);
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.is(mailbox.messages.filter((mail) => mail.envelopeTo.includes(user.email) && mail.subject === 'Choose a new password').length, 1);
});

test('a signed-in user changes the password with the current one: other sessions end, this one goes on', async (t) => {
  const user = await signUp(service);
  const other = await signIn(user.email, user.password);
  const change = (current: string, next: string) =>
    as(service, user).send('POST', '/api/v1/auth/password/change', { current_password: current, new_password: next });

  t.is((await change('wrong-password-here', 'Changed-it-today-55')).status, 401);
  t.is((await change(user.password, 'password1')).status, 422);
  t.is((await login(user.email, user.password)).status, 200, 'neither changed anything');

  t.is((await change(user.password, 'Changed-it-today-55')).status, 204);
  t.is((await service.request('/api/v1/auth/me', { headers: bearer(other.access_token) })).status, 401);
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: other.refresh_token })).status, 401);
  t.is((await service.request('/api/v1/auth/me', { headers: bearer(user.accessToken) })).status, 200);
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken })).status, 200);
  t.is((await login(user.email, user.password)).status, 401);
  t.is((await login(user.email, 'Changed-it-today-55')).status, 200);
});
