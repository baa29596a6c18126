import { request as httpRequest } from 'node:http';
import test from 'ava';
import { as, makeTenant, signUp } from '../support/factories.ts';
import { mailedToken } from '../support/account-mail.ts';
import { INVITATION_SUBJECT } from '../../src/mail/invitation-message.ts';
import { startMailbox, tokenIn, type TestMailbox } from '../support/smtp.ts';
import { useTestService } from '../support/test-service.ts';

let mailbox: TestMailbox;
const service = useTestService(test, async () => {
  mailbox = await startMailbox();
  return { environment: { SMTP_URL: mailbox.url, OUTBOX_POLL_MS: '100' } };
});
test.after.always(async () => {
  await mailbox?.close();
});

/** GET a page and keep what a browser keeps: its CSRF cookie and the hidden field. */
async function open(path: string) {
  const response = await service.request(path);
  const body = await response.text();
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
  return { response, body, cookie, csrf };
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return service.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** fetch() sets Origin itself; a browser on another site sends its own, as here. */
function postFromOrigin(path: string, fields: Record<string, string>, cookie: string, origin: string): Promise<number> {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(body);
  });
}

test('every page answers with a strict Content-Security-Policy (no script at all), no referrer to other sites, no caching, no framing', async (t) => {
  const user = await signUp(service);
  const { response } = await open(`/verify-email/${await mailedToken(mailbox, user.email, 'verify-email')}`);
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'text/html; charset=utf-8');
  const csp = response.headers.get('content-security-policy') ?? '';
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /form-action 'self'/);
  t.regex(csp, /frame-ancestors 'none'/);
  t.notRegex(csp, /script-src|unsafe-inline/);
  t.is(response.headers.get('referrer-policy'), 'same-origin');
  t.is(response.headers.get('cache-control'), 'no-store');
  t.regex(response.headers.get('set-cookie') ?? '', /HttpOnly/i);
  t.regex(response.headers.get('set-cookie') ?? '', /SameSite=Strict/i);
});

test('an unknown, used, expired or malformed link shows the same "no longer works" page', async (t) => {
  const user = await signUp(service);
  const token = await mailedToken(mailbox, user.email, 'verify-email');
  const page = await open(`/verify-email/${token}`);
  const done = await post(`/verify-email/${token}`, { _csrf: page.csrf, action: 'verify', password: user.password }, { cookie: page.cookie });
  t.is(done.status, 200);
  t.regex(await done.text(), /is confirmed as the address of/);

  const gone = await Promise.all([`/verify-email/${token}`, `/verify-email/${'C'.repeat(43)}`, '/verify-email/%3Cscript%3E', `/reset-password/${token}`].map((path) => open(path)));
  for (const { response, body } of gone) {
    t.is(response.status, 404);
    t.regex(body, /This link no longer works/);
  }
  t.is(gone[0]?.body, gone[1]?.body);
  t.is(gone[1]?.body, gone[2]?.body);
});

test('a form posted without the page cookie, with a different value, or from another origin is refused and changes nothing', async (t) => {
  const user = await signUp(service);
  const token = await mailedToken(mailbox, user.email, 'verify-email');
  const page = await open(`/verify-email/${token}`);
  const fields = { _csrf: page.csrf, action: 'verify', password: user.password };
  t.is((await post(`/verify-email/${token}`, fields)).status, 403, 'no cookie');
  t.is((await post(`/verify-email/${token}`, { ...fields, _csrf: 'x'.repeat(43) }, { cookie: page.cookie })).status, 403, 'another value');
  t.is(await postFromOrigin(`/verify-email/${token}`, fields, page.cookie, 'https://evil.example'), 403, 'another origin');
  const me = (await (await as(service, user).get('/api/v1/auth/me')).json()) as { user: { email_verified: boolean } };
  t.false(me.user.email_verified);
  t.is((await post(`/verify-email/${token}`, fields, { cookie: page.cookie })).status, 200);
});

test('names on the invitation page are escaped: markup an inviter chose shows as text', async (t) => {
  const tenant = await makeTenant(service);
  await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { name: '<img src=x onerror=alert(1)> Acme' });
  const invitee = `${tenant.owner.username}.invitee@example.com`;
  t.is((await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: invitee, role: 'member' })).status, 201);
  const { body } = await open(`/invitations/${tokenIn(await mailbox.waitFor(invitee, { subject: INVITATION_SUBJECT }))}`);
  t.false(body.includes('<img'));
  t.true(body.includes('&lt;img src=x onerror=alert(1)&gt; Acme'));
  t.false(/<script/i.test(body));
});

test('a wrong password on the reset page is refused on the page itself and the link still works; mismatched passwords too', async (t) => {
  const user = await signUp(service);
  await service.send('POST', '/api/v1/auth/password/forgot', { email: user.email });
  const token = await mailedToken(mailbox, user.email, 'reset-password');
  const page = await open(`/reset-password/${token}`);
  const weak = await post(`/reset-password/${token}`, { _csrf: page.csrf, action: 'reset', password: 'password1', confirmation: 'password1' }, { cookie: page.cookie });
  t.is(weak.status, 422);
  t.regex(await weak.text(), /The password is too easy to guess/);
  const differ = await post(`/reset-password/${token}`, { _csrf: page.csrf, action: 'reset', password: 'Good-enough-pass-88', confirmation: 'Good-enough-pass-89' }, { cookie: page.cookie });
  t.is(differ.status, 422);
  t.regex(await differ.text(), /does not match the new password/);
  const done = await post(`/reset-password/${token}`, { _csrf: page.csrf, action: 'reset', password: 'Good-enough-pass-88', confirmation: 'Good-enough-pass-88' }, { cookie: page.cookie });
  t.is(done.status, 200);
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: 'Good-enough-pass-88' })).status, 200);
});

test('on the invitation page an existing account signs in and accepts, or declines; a wrong password is told on the page and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const invite = async (email: string) => {
    t.is((await as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email, role: 'member' })).status, 201);
    return `/invitations/${tokenIn(await mailbox.waitFor(email, { subject: INVITATION_SUBJECT }))}`;
  };
  const joiner = await signUp(service);
  const decliner = await signUp(service);
  const joinPath = await invite(joiner.email);
  const declinePath = await invite(decliner.email);
  const membersOf = async () =>
    ((await (await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/members`)).json()) as Array<{ user_id: string }>).map((member) => member.user_id);

  const page = await open(joinPath);
  const wrong = await post(joinPath, { _csrf: page.csrf, action: 'accept', email: joiner.email, password: 'not-the-password-at-all' }, { cookie: page.cookie });
  t.is(wrong.status, 401);
  t.regex(await wrong.text(), /Wrong email or password/);
  t.false((await membersOf()).includes(joiner.id));

  const accepted = await post(joinPath, { _csrf: page.csrf, action: 'accept', email: joiner.email, password: joiner.password }, { cookie: page.cookie });
  t.is(accepted.status, 200);
  t.regex(await accepted.text(), /You are now a member of/);
  t.true((await membersOf()).includes(joiner.id));

  const other = await open(declinePath);
  const declined = await post(declinePath, { _csrf: other.csrf, action: 'decline', email: decliner.email, password: decliner.password }, { cookie: other.cookie });
  t.is(declined.status, 200);
  t.regex(await declined.text(), /You declined the invitation/);
  t.false((await membersOf()).includes(decliner.id));
  t.is((await service.request(`/api/v1${declinePath}`)).status, 404, 'closed for good');
});
