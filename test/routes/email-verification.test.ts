import test from 'ava';
import { decodeJwt } from 'jose';
import { as, bearer, makeServiceAccount, makeTenant, signUp } from '../support/factories.ts';
import { ageMailedTokens, mailedToken } from '../support/account-mail.ts';
import type { MeBody } from '../support/responses.ts';
import { linkIn, startMailbox, type TestMailbox } from '../support/smtp.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100', PUBLIC_URL: 'https://id.example.test' } };
});
test.after.always(async () => {
  await mailbox?.close();
});

const verify = (token: string, password: string) => service.send('POST', '/api/v1/auth/email/verify', { token, password });
const me = async (accessToken: string) => ((await (await service.request('/api/v1/auth/me', { headers: bearer(accessToken) })).json()) as MeBody).user;

test('signup mails a link to /verify-email; the token with the password verifies the address in /auth/me, new tokens and introspection', async (t) => {
  const user = await signUp(service);
  const mail = await mailbox.waitFor(user.email);
  t.is(mail.subject, 'Confirm your email address');
  t.regex(mail.text ?? '', /https:\/\/id\.example\.test\/verify-email\/[A-Za-z0-9_-]{40,}/);
  t.regex(mail.text ?? '', /enter its password: that confirms this address belongs to the account/);
  t.false((await me(user.accessToken)).email_verified);
  t.false(decodeJwt(user.accessToken).email_verified);

  const verified = await verify(await mailedToken(mailbox, user.email, 'verify-email'), user.password);
  t.is(verified.status, 200);
  t.like(await verified.json(), { email_verified: true, email: user.email });

  const after = await me(user.accessToken);
  t.true(after.email_verified);
  t.truthy(after.email_verified_at);
  const { key } = await makeServiceAccount(service);
  const introspected = await service.send('POST', '/api/v1/auth/introspect', { token: user.accessToken }, bearer(key));
  t.like(await introspected.json(), { active: true, email_verified: true });
  const refreshed = (await (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken })).json()) as { access_token: string };
  t.true(decodeJwt(refreshed.access_token).email_verified);
});

test('MAIL_LINK_BASE_URL points the mailed links at a front end; the JSON API answers its calls as before', async (t) => {
  const local = await startTestService({ environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100', MAIL_LINK_BASE_URL: 'https://app.front.test/' } });
  try {
    const user = await signUp(local);
    const mail = await mailbox.waitFor(user.email, { subject: 'Confirm your email address' });
    const { url, token } = linkIn(mail, 'verify-email');
    t.is(url, `https://app.front.test/verify-email/${token}`);
    t.is((await local.send('POST', '/api/v1/auth/email/verify', { token, password: user.password })).status, 200);
  } finally {
    await local.stop();
  }
});

test('the OpenAPI document has the new endpoints', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as { paths: Record<string, { post?: unknown }> };
  for (const path of ['/api/v1/auth/email/verification', '/api/v1/auth/email/verify', '/api/v1/auth/password/forgot', '/api/v1/auth/password/reset', '/api/v1/auth/password/change']) {
    t.truthy(document.paths[path]?.post, path);
  }
});

test('a verification token is single-use; an unknown, used or expired one answers the very same 404', async (t) => {
  const used = await signUp(service);
  const usedToken = await mailedToken(mailbox, used.email, 'verify-email');
  t.is((await verify(usedToken, used.password)).status, 200);
  const expired = await signUp(service);
  const expiredToken = await mailedToken(mailbox, expired.email, 'verify-email');
  await ageMailedTokens(service, expired.id, 4 * 24 * 3600);

  const answers = [];
  for (const [token, password] of [
    [usedToken, used.password],
    [expiredToken, expired.password],
    ['A'.repeat(43), used.password],
  ] as const) {
    const response = await verify(token, password);
    const { type, title, status, detail } = (await response.json()) as Record<string, unknown>;
    answers.push({ httpStatus: response.status, type, title, status, detail });
  }
  t.is(answers[0]?.httpStatus, 404);
  t.deepEqual(answers[1], answers[0]);
  t.deepEqual(answers[2], answers[0]);
  t.false((await me(expired.accessToken)).email_verified);
});

test('the link alone proves nothing: a wrong password is 401, leaves the address unverified and the token usable', async (t) => {
  const user = await signUp(service);
  const token = await mailedToken(mailbox, user.email, 'verify-email');
  t.is((await verify(token, 'not-the-password-at-all')).status, 401);
  t.false((await me(user.accessToken)).email_verified);
  t.is((await verify(token, user.password)).status, 200);
});

test('resend: 429 within the cooldown; after it a new link, and the old one no longer works; 409 once verified', async (t) => {
  const user = await signUp(service);
  const first = await mailedToken(mailbox, user.email, 'verify-email');
  const early = await as(service, user).send('POST', '/api/v1/auth/email/verification');
  t.is(early.status, 429);
  t.truthy(early.headers.get('retry-after'));

  await ageMailedTokens(service, user.id, 120);
  const before = mailbox.messages.length;
  t.is((await as(service, user).send('POST', '/api/v1/auth/email/verification')).status, 202);
  const second = await mailedToken(mailbox, user.email, 'verify-email', before);
  t.not(second, first);
  t.is((await verify(first, user.password)).status, 404, 'the earlier link died');
  t.is((await verify(second, user.password)).status, 200);
  t.is((await as(service, user).send('POST', '/api/v1/auth/email/verification')).status, 409);
});

test('until verified no invitation is matched by email; after, the invitation to that address is listed', async (t) => {
  const tenant = await makeTenant(service);
  const user = await signUp(service);
  t.is((await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: user.email, role: 'member' })).status, 201);
  const listed = async () => ((await (await as(service, user).get('/api/v1/auth/me/invitations')).json()) as unknown[]).length;
  t.is(await listed(), 0);
  t.is((await verify(await mailedToken(mailbox, user.email, 'verify-email'), user.password)).status, 200);
  t.is(await listed(), 1);
});

test("squatting: someone registers another person's address; the owner's signup gets a mail instead, and its link takes the account over (new password, the squatter signed out, the address verified)", async (t) => {
  const squatter = await signUp(service);
  const ownerSignup = await service.send('POST', '/api/v1/auth/email/signup', {
    username: `owner_${squatter.username.slice(5)}`,
    email: squatter.email,
    password: 'Owner-chooses-9-words',
  });
  t.is(ownerSignup.status, 409);
  const token = await mailedToken(mailbox, squatter.email, 'reset-password');
  t.true(mailbox.messages.some((mail) => mail.envelopeTo.includes(squatter.email) && mail.subject === 'Someone tried to sign up with your email address'));

  t.is((await service.send('POST', '/api/v1/auth/password/reset', { token, password: 'Owner-chooses-9-words' })).status, 204);
  t.is((await service.request('/api/v1/auth/me', { headers: bearer(squatter.accessToken) })).status, 401, "the squatter's access token ends");
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: squatter.refreshToken })).status, 401);
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: squatter.email, password: squatter.password })).status, 401);
  const owner = await service.send('POST', '/api/v1/auth/email/login', { email: squatter.email, password: 'Owner-chooses-9-words' });
  t.is(owner.status, 200);
  t.true(((await owner.json()) as { user: { email_verified: boolean } }).user.email_verified);
});

test("the verification link's owner may take the account over instead of verifying a stranger's account", async (t) => {
  const squatter = await signUp(service);
  const token = await mailedToken(mailbox, squatter.email, 'verify-email');
  t.is((await service.send('POST', '/api/v1/auth/password/reset', { token, password: 'Mine-after-all-42x' })).status, 204);
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: squatter.refreshToken })).status, 401);
  t.is((await verify(token, 'Mine-after-all-42x')).status, 404, 'single use across both');
});
