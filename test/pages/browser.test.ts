import { mkdirSync } from 'node:fs';
import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { INVITATION_SUBJECT } from '../../src/mail/invitation-message.ts';
import { as, bearer, makeTenant, signUp, uniqueName } from '../support/factories.ts';
import { startMailbox, linkIn, type TestMailbox } from '../support/smtp.ts';
import { useTestService } from '../support/test-service.ts';

/** Screenshots of every page the run went through, for people to look at (gitignored). */
const SCREENSHOTS = 'test-output/pages';

let mailbox: TestMailbox;
let browser: Browser;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100', PUBLIC_URL: 'https://id.example.test' } };
});
test.before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
test.after.always(async () => {
  await browser?.close();
  await mailbox?.close();
});

/** The mailed link, opened on the service under test (the mail names PUBLIC_URL, https://id.example.test). */
async function followLink(page: Page, to: string, kind: 'invitations' | 'verify-email' | 'reset-password', subject: string): Promise<string> {
  const mail = await mailbox.waitFor(to, { subject });
  const link = new URL(linkIn(mail, kind).url);
  await page.goto(`${service.url}${link.pathname}`);
  return link.pathname;
}

/** A fresh page that records every Content-Security-Policy refusal and page error (the test expects none). */
async function newPage(violations: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(error.message));
  return page;
}

const shoot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });

test.serial('invitation mail → page → sign up → accepted and in the organization, with its workspace role', async (t) => {
  const violations: string[] = [];
  const tenant = await makeTenant(service);
  const email = `${uniqueName('newbie')}@example.com`;
  const invited = await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, {
    email,
    role: 'member',
    workspaces: [{ workspace_id: tenant.workspaceId, role: 'editor' }],
  });
  t.is(invited.status, 201);

  const page = await newPage(violations);
  const path = await followLink(page, email, 'invitations', INVITATION_SUBJECT);
  await page.getByRole('heading', { name: /^Join / }).waitFor();
  t.regex(await page.locator('dl').innerText(), /Role\s+member/);
  t.regex(await page.locator('dl').innerText(), /: editor/);
  await shoot(page, '1-invitation');

  const signupForm = page.locator('form', { has: page.getByRole('button', { name: 'Sign up and accept' }) });
  const username = uniqueName('newbie');
  await signupForm.getByLabel(/Username/).fill(username);
  await signupForm.getByLabel('Email').fill(email);
  await signupForm.getByLabel('Password').fill('Joining-with-9-words');
  await signupForm.getByRole('button', { name: 'Sign up and accept' }).click();
  await page.getByRole('heading', { name: /^You joined / }).waitFor();
  await shoot(page, '2-invitation-accepted');

  const login = await service.send('POST', '/api/v1/auth/email/login', { email, password: 'Joining-with-9-words' });
  const session = (await login.json()) as { access_token: string; user: { email_verified: boolean } };
  t.true(session.user.email_verified, 'the invitation token proved the address');
  t.is((await service.request(`/api/v1/orgs/${tenant.organizationId}`, { headers: bearer(session.access_token) })).status, 200, 'a member of the organization');

  await page.goto(`${service.url}${path}`);
  await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
  await shoot(page, '3-invitation-used');
  t.deepEqual(violations, []);
  await page.close();
});

test.serial('reset mail → page → new password → signs in with it', async (t) => {
  const violations: string[] = [];
  const user = await signUp(service);
  t.is((await service.send('POST', '/api/v1/auth/password/forgot', { email: user.email })).status, 202);

  const page = await newPage(violations);
  await followLink(page, user.email, 'reset-password', 'Choose a new password');
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await shoot(page, '4-reset-password');
  await page.getByLabel('New password', { exact: true }).fill('Fresh-start-after-all-7');
  await page.getByLabel('New password again').fill('Fresh-start-after-all-7');
  await page.getByRole('button', { name: 'Change my password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await shoot(page, '5-reset-done');

  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: 'Fresh-start-after-all-7' })).status, 200);
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password })).status, 401);
  t.deepEqual(violations, []);
  await page.close();
});

test.serial('verify mail → page → password → verified', async (t) => {
  const violations: string[] = [];
  const user = await signUp(service);
  const page = await newPage(violations);
  await followLink(page, user.email, 'verify-email', 'Confirm your email address');
  await page.getByRole('heading', { name: 'Confirm your email address' }).waitFor();
  await shoot(page, '6-verify-email');

  const wrong = page.locator('form', { has: page.getByRole('button', { name: 'Confirm my address' }) });
  await wrong.getByLabel("The account's password").fill('not-my-password-at-all');
  await wrong.getByRole('button', { name: 'Confirm my address' }).click();
  await page.getByRole('alert').waitFor();
  t.regex(await page.getByRole('alert').innerText(), /not this account's password/);
  await shoot(page, '7-verify-wrong-password');

  const form = page.locator('form', { has: page.getByRole('button', { name: 'Confirm my address' }) });
  await form.getByLabel("The account's password").fill(user.password);
  await form.getByRole('button', { name: 'Confirm my address' }).click();
  await page.getByRole('heading', { name: 'Address confirmed' }).waitFor();
  await shoot(page, '8-verify-done');

  const me = (await (await as(service, user).get('/api/v1/auth/me')).json()) as { user: { email_verified: boolean } };
  t.true(me.user.email_verified);
  t.deepEqual(violations, []);
  await page.close();
});
