import test from 'ava';
import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { as, makeUser, type SignedUpUser } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/** The TOTP second factor (RFC 6238): enrolment, login challenge, recovery codes, disabling (docs/tenant-api.md, "Second factor"). */

const service = useTestService(test);

interface Challenge {
  mfa_required: true;
  challenge_token: string;
  expires_in: number;
}

/**
 * The code an authenticator app shows `steps` periods from now. A code is good once, and only a
 * later step after it: a test moves one step forward for each code it uses (the drift window
 * accepts the step before and the one after the current one).
 */
function codeAt(secret: string, steps: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });
}

/** Enrols and confirms a factor (with the previous step's code, leaving now and the next step usable). */
async function enrolled(user: SignedUpUser): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp');
  if (started.status !== 201) throw new Error(`enrolment answered ${started.status}`);
  const { secret } = (await started.json()) as { secret: string };
  const confirmed = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code: codeAt(secret, -1) });
  if (confirmed.status !== 200) throw new Error(`confirmation answered ${confirmed.status}: ${await confirmed.text()}`);
  const { recovery_codes: recoveryCodes } = (await confirmed.json()) as { recovery_codes: string[] };
  return { secret, recoveryCodes };
}

async function challenged(user: SignedUpUser): Promise<Challenge> {
  const response = await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  const body = (await response.json()) as Challenge;
  if (!body.mfa_required) throw new Error('login answered a session, not a challenge');
  return body;
}

function verify(challengeToken: string, code: string) {
  return service.send('POST', '/api/v1/auth/mfa/verify', { challenge_token: challengeToken, code });
}

async function status(user: SignedUpUser) {
  return (await (await as(service, user).get('/api/v1/auth/me/mfa')).json()) as { totp_enabled: boolean; recovery_codes_left: number };
}

test('enrolment answers a secret and its otpauth:// URI; a code confirms it, answering ten recovery codes; the secret is stored sealed', async (t) => {
  const user = await makeUser(service);
  const started = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp');
  t.is(started.status, 201);
  const { secret, otpauth_uri: uri } = (await started.json()) as { secret: string; otpauth_uri: string };
  t.regex(secret, /^[A-Z2-7]{32}$/);
  const parsed = new URL(uri);
  t.is(parsed.protocol, 'otpauth:');
  t.is(parsed.searchParams.get('secret'), secret);
  t.is(parsed.searchParams.get('issuer'), 'tenant-authz');
  t.true(decodeURIComponent(parsed.pathname).endsWith(user.email));
  t.deepEqual(await status(user), { totp_enabled: false, recovery_codes_left: 0 }, 'not enabled before it is confirmed');

  const [stored] = await service.orm.em.fork().execute<Array<{ sealed_secret: string }>>('select sealed_secret from totp_factors where user_id = ?', [user.id]);
  t.false(stored?.sealed_secret.includes(secret), 'the secret is not stored as it is');

  const wrong = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code: codeAt(secret, 5) });
  t.is(wrong.status, 422);
  t.is(((await wrong.json()) as { errors: Array<{ field: string }> }).errors[0]?.field, 'body.code');
  t.false((await status(user)).totp_enabled);

  const confirmed = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code: codeAt(secret, 0) });
  t.is(confirmed.status, 200);
  const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
  t.is(new Set(codes).size, 10);
  const storedCodes = await service.orm.em.fork().execute<Array<{ code_hash: string }>>('select code_hash from recovery_codes where user_id = ?', [user.id]);
  t.is(storedCodes.length, 10);
  t.true(storedCodes.every(({ code_hash: hash }) => /^[0-9a-f]{64}$/.test(hash) && !codes.some((code) => hash.includes(code.replace('-', '')))), 'stored only as hashes');
  t.deepEqual(await status(user), { totp_enabled: true, recovery_codes_left: 10 });
  t.is((await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp')).status, 409, 'one factor at a time');
});

test('a login of an account with a factor answers a challenge; a code completes it with amr pwd+otp+mfa, which a refresh keeps', async (t) => {
  const user = await makeUser(service);
  const withoutFactor = await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  t.deepEqual(decodeJwt(((await withoutFactor.json()) as SessionBody).access_token).amr, ['pwd']);
  const { secret } = await enrolled(user);

  const challenge = await challenged(user);
  t.like(challenge, { mfa_required: true, expires_in: 300 });
  t.false('access_token' in challenge);

  const verified = await verify(challenge.challenge_token, codeAt(secret, 0));
  t.is(verified.status, 200);
  const session = (await verified.json()) as SessionBody;
  t.deepEqual(decodeJwt(session.access_token).amr, ['pwd', 'otp', 'mfa']);
  t.is((await as(service, { accessToken: session.access_token }).get('/api/v1/auth/me')).status, 200);
  const refreshed = (await (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: session.refresh_token })).json()) as SessionBody;
  t.deepEqual(decodeJwt(refreshed.access_token).amr, ['pwd', 'otp', 'mfa']);
  t.is((await verify(challenge.challenge_token, codeAt(secret, 1))).status, 401, 'a challenge completes once');
});

test('a code used once is refused the second time, on a new challenge too', async (t) => {
  const user = await makeUser(service);
  const { secret } = await enrolled(user);
  const code = codeAt(secret, 0);
  t.is((await verify((await challenged(user)).challenge_token, code)).status, 200);
  t.is((await verify((await challenged(user)).challenge_token, code)).status, 401);
  t.is((await verify((await challenged(user)).challenge_token, codeAt(secret, -1))).status, 401, 'nor an older one');
});

test('a recovery code completes a challenge once; a used one is refused', async (t) => {
  const user = await makeUser(service);
  const { recoveryCodes } = await enrolled(user);
  const [code = ''] = recoveryCodes;
  const verified = await verify((await challenged(user)).challenge_token, code.toUpperCase());
  t.is(verified.status, 200);
  t.deepEqual(decodeJwt(((await verified.json()) as SessionBody).access_token).amr, ['pwd', 'otp', 'mfa']);
  t.is((await verify((await challenged(user)).challenge_token, code)).status, 401);
  t.is((await status(user)).recovery_codes_left, 9);
});

test('wrong codes: the same 401 as an unknown or expired challenge; five spend a challenge; too many for the account answer 429', async (t) => {
  const user = await makeUser(service);
  const { secret } = await enrolled(user);
  const problem = async (response: Response) => {
    const { status: code, title, type } = (await response.json()) as Record<string, unknown>;
    return { status: code, title, type, code: response.status };
  };
  const first = await challenged(user);
  const wrong = await problem(await verify(first.challenge_token, '000000'));
  t.is(wrong.code, 401);
  t.deepEqual(await problem(await verify('no-such-challenge-token', codeAt(secret, 0))), wrong);
  const expired = await challenged(user);
  await service.orm.em.fork().execute(`update mfa_challenges set expires_at = now() - interval '1 second' where user_id = ?`, [user.id]);
  t.deepEqual(await problem(await verify(expired.challenge_token, codeAt(secret, 0))), wrong);

  const spent = await challenged(user);
  for (let attempt = 0; attempt < 5; attempt++) t.is((await verify(spent.challenge_token, '000000')).status, 401);
  t.is((await verify(spent.challenge_token, codeAt(secret, 0))).status, 401, 'a challenge takes five wrong codes, then none');

  // 6 failures so far; the account's limit (MFA_MAX_FAILURES_PER_ACCOUNT) is 10.
  const next = await challenged(user);
  for (let attempt = 0; attempt < 4; attempt++) t.is((await verify(next.challenge_token, '000000')).status, 401);
  const throttled = await verify((await challenged(user)).challenge_token, codeAt(secret, 0));
  t.is(throttled.status, 429);
  t.truthy(throttled.headers.get('retry-after'));
});

test('wrong confirmation codes count like wrong codes at login: past the account\'s limit, 429 even for the right one', async (t) => {
  const user = await makeUser(service);
  const started = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp');
  const { secret } = (await started.json()) as { secret: string };
  const confirm = (code: string) => as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code });
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 10; attempt++) statuses.push((await confirm(codeAt(secret, 10))).status);
  t.deepEqual(statuses, Array(10).fill(422));
  t.is((await confirm(codeAt(secret, 0))).status, 429);
  t.false((await status(user)).totp_enabled);
});

test('disabling needs a code of the factor: a wrong one is refused (403) and changes nothing; then logins sign in at once', async (t) => {
  const user = await makeUser(service);
  const { secret } = await enrolled(user);
  const wrong = await as(service, user).send('DELETE', '/api/v1/auth/me/mfa/totp', { code: '000000' });
  t.is(wrong.status, 403);
  t.deepEqual(await status(user), { totp_enabled: true, recovery_codes_left: 10 });
  t.is((await as(service, user).send('DELETE', '/api/v1/auth/me/mfa/totp', {})).status, 422);

  t.is((await as(service, user).send('DELETE', '/api/v1/auth/me/mfa/totp', { code: codeAt(secret, 0) })).status, 204);
  t.deepEqual(await status(user), { totp_enabled: false, recovery_codes_left: 0 });
  const own = (await (await as(service, user).get('/api/v1/auth/me/audit-events')).json()) as Array<{ action: string }>;
  t.deepEqual(own.map((event) => event.action).filter((action) => action.startsWith('user.mfa')).sort(), ['user.mfa_disabled', 'user.mfa_enabled']);
  const login = await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  t.truthy(((await login.json()) as SessionBody).access_token);
  t.is((await as(service, user).send('DELETE', '/api/v1/auth/me/mfa/totp', { code: codeAt(secret, 1) })).status, 409, 'nothing left to disable');
});

test('bad input answers 4xx problem documents, never 500', async (t) => {
  const user = await makeUser(service);
  const bodies: unknown[] = [{}, { challenge_token: 'x' }, { challenge_token: 'x', code: 123456 }, { challenge_token: 'x', code: 'abc' }, { challenge_token: 'x\u0000', code: '123456' }, { challenge_token: 'x', code: '123456', extra: 1 }, []];
  for (const body of bodies) {
    const response = await service.send('POST', '/api/v1/auth/mfa/verify', body);
    t.is(response.status, 422, JSON.stringify(body));
    t.is(response.headers.get('content-type'), 'application/problem+json');
  }
  for (const code of ['abcdef', '12345', 1234567, null]) {
    t.is((await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code })).status, 422, String(code));
  }
  t.is((await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code: '123456' })).status, 409, 'no enrolment started');
  t.is((await service.send('POST', '/api/v1/auth/me/mfa/totp')).status, 401);
});

test('the OpenAPI document has the session, account and second-factor routes, and login answers either shape', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  };
  t.truthy(document.paths['/api/v1/auth/me/sessions']?.get);
  t.truthy(document.paths['/api/v1/auth/me/sessions/{session_id}']?.delete?.responses['404']);
  t.truthy(document.paths['/api/v1/auth/me']?.delete?.responses['409']);
  t.truthy(document.paths['/api/v1/auth/mfa/verify']?.post?.responses['429']);
  t.truthy(document.paths['/api/v1/auth/me/mfa']?.get);
  t.truthy(document.paths['/api/v1/auth/me/mfa/totp']?.post);
  t.truthy(document.paths['/api/v1/auth/me/mfa/totp']?.delete?.responses['403']);
  t.truthy(document.paths['/api/v1/auth/me/mfa/totp/confirm']?.post);
  const login = JSON.stringify(document.paths['/api/v1/auth/email/login']?.post?.responses['200']);
  t.true(login.includes('LoginResult'));
});
