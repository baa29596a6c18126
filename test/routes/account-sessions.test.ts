import test from 'ava';
import { decodeJwt } from 'jose';
import { as, bearer, signUp, type SignedUpUser } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { canRunSpiceDbServer } from '../support/spicedb-server.ts';
import { useTestService, type TestService } from '../support/test-service.ts';
import { twoInstances } from '../support/two-instances.ts';

const service = useTestService(test);
const withServer = canRunSpiceDbServer ? test : test.skip;

interface SessionRow {
  id: string;
  created_at: string;
  last_used_at: string;
  client_address: string | null;
  user_agent: string | null;
  current: boolean;
}

const sessionOf = (token: string) => String(decodeJwt(token).sid);

async function login(target: TestService, user: SignedUpUser, userAgent: string): Promise<SessionBody> {
  const response = await target.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password }, { 'User-Agent': userAgent });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  return (await response.json()) as SessionBody;
}

async function sessionsOf(target: TestService, accessToken: string): Promise<SessionRow[]> {
  const response = await as(target, { accessToken }).get('/api/v1/auth/me/sessions');
  if (response.status !== 200) throw new Error(`GET sessions answered ${response.status}`);
  return (await response.json()) as SessionRow[];
}

/** Polls (no timing is asserted) until the token is refused: another instance hears of an end within milliseconds. */
async function untilRefused(target: TestService, accessToken: string): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < 500; attempt++) {
    status = (await as(target, { accessToken }).get('/api/v1/auth/me')).status;
    if (status === 401) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return status;
}

test('GET /auth/me/sessions lists each live sign-in with its address and user agent, the current one marked', async (t) => {
  const user = await signUp(service);
  const laptop = await login(service, user, 'Laptop/1.0');
  const phone = await login(service, user, 'Phone/2.0');

  const listed = await sessionsOf(service, laptop.access_token);
  t.deepEqual(
    listed.map((session) => session.id).sort(),
    [user.accessToken, laptop.access_token, phone.access_token].map(sessionOf).sort(),
  );
  const laptopRow = listed.find((session) => session.id === sessionOf(laptop.access_token));
  t.is(laptopRow?.user_agent, 'Laptop/1.0');
  t.true(laptopRow?.current);
  t.regex(laptopRow?.client_address ?? '', /127\.0\.0\.1/);
  t.deepEqual(listed.filter((session) => session.current).map((session) => session.id), [sessionOf(laptop.access_token)]);
  t.is(listed[0]?.id, sessionOf(phone.access_token), 'the most recently used first');
});

test('a refresh records its user agent and time as the session\'s last use', async (t) => {
  const user = await signUp(service);
  const before = (await sessionsOf(service, user.accessToken))[0];
  await new Promise((resolve) => setTimeout(resolve, 20));
  const refreshed = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken }, { 'User-Agent': 'Renewed/3.0' });
  t.is(refreshed.status, 200);
  const after = (await sessionsOf(service, user.accessToken))[0];
  t.is(after?.id, before?.id);
  t.is(after?.user_agent, 'Renewed/3.0');
  t.is(after?.created_at, before?.created_at);
  t.true(Date.parse(after?.last_used_at ?? '') > Date.parse(before?.last_used_at ?? ''));
});

test('DELETE /auth/me/sessions/{id} ends that session at once: its access and refresh tokens are refused, the others work', async (t) => {
  const user = await signUp(service);
  const other = await login(service, user, 'Other/1.0');

  const ended = await as(service, user).send('DELETE', `/api/v1/auth/me/sessions/${sessionOf(other.access_token)}`);
  t.is(ended.status, 204);

  t.is((await as(service, { accessToken: other.access_token }).get('/api/v1/auth/me')).status, 401);
  t.is((await as(service, { accessToken: other.access_token }).get(`/api/v1/orgs/${user.organizationId}`)).status, 401);
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: other.refresh_token })).status, 401);
  t.is((await as(service, user).get('/api/v1/auth/me')).status, 200, 'the session that ended it still works');
  t.deepEqual((await sessionsOf(service, user.accessToken)).map((session) => session.id), [sessionOf(user.accessToken)]);
});

test("another user's session id answers the same 404 as an unknown one, and that session goes on working", async (t) => {
  const [user, stranger] = [await signUp(service), await signUp(service)];
  const foreign = await as(service, stranger).send('DELETE', `/api/v1/auth/me/sessions/${sessionOf(user.accessToken)}`);
  const unknown = await as(service, stranger).send('DELETE', '/api/v1/auth/me/sessions/5b0c8c7e-7a53-4e86-9a3c-2f1d2b7e5d11');
  t.is(foreign.status, 404);
  t.is(unknown.status, 404);
  const [foreignBody, unknownBody] = [(await foreign.json()) as Record<string, unknown>, (await unknown.json()) as Record<string, unknown>];
  delete foreignBody.request_id;
  delete unknownBody.request_id;
  delete foreignBody.instance;
  delete unknownBody.instance;
  t.deepEqual(foreignBody, unknownBody);
  t.is((await as(service, user).get('/api/v1/auth/me')).status, 200);
  t.is((await sessionsOf(service, user.accessToken)).length, 1);
});

test('an ended session answers 404 the second time; a malformed id 422; no token 401', async (t) => {
  const user = await signUp(service);
  const other = await login(service, user, 'Other/1.0');
  const path = `/api/v1/auth/me/sessions/${sessionOf(other.access_token)}`;
  t.is((await as(service, user).send('DELETE', path)).status, 204);
  t.is((await as(service, user).send('DELETE', path)).status, 404);
  const malformed = await as(service, user).send('DELETE', '/api/v1/auth/me/sessions/not-a-uuid');
  t.is(malformed.status, 422);
  t.is(malformed.headers.get('content-type'), 'application/problem+json');
  t.is((await service.send('DELETE', path)).status, 401);
  t.is((await service.request('/api/v1/auth/me/sessions', { headers: bearer('nonsense') })).status, 401);
});

withServer('a session ended on one instance is refused on the other', async (t) => {
  const [first, second] = await twoInstances(t);
  const user = await signUp(first);
  const other = await login(second, user, 'Elsewhere/1.0');
  t.is((await as(second, { accessToken: other.access_token }).get('/api/v1/auth/me')).status, 200);

  t.is((await as(first, user).send('DELETE', `/api/v1/auth/me/sessions/${sessionOf(other.access_token)}`)).status, 204);

  t.is(await untilRefused(second, other.access_token), 401);
  t.is((await second.send('POST', '/api/v1/auth/refresh', { refresh_token: other.refresh_token })).status, 401);
  t.is((await as(second, user).get('/api/v1/auth/me')).status, 200);
});
