import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { APPLICATION_NAME } from '../../src/authz/session-revocations.ts';
import { as, bearer, makeServiceAccount, makeUser, signUp, type SignedUpUser } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { canRunSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, type TestService } from '../support/test-service.ts';
import { twoInstances } from '../support/two-instances.ts';

let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(async () => {
  await service?.stop();
});

const withServer = canRunSpiceDbServer ? test : test.skip;

const sessionOf = (token: string) => String(decodeJwt(token).sid);

/** Every kind of route a user token reaches: a read, a write, and the authorization API. */
async function statusesWith(target: TestService, user: SignedUpUser, accessToken: string) {
  const caller = as(target, { accessToken });
  return {
    me: (await caller.get('/api/v1/auth/me')).status,
    org: (await caller.get(`/api/v1/orgs/${user.organizationId}`)).status,
    rename: (await caller.send('PATCH', `/api/v1/orgs/${user.organizationId}`, { name: 'Renamed after logout' })).status,
    check: (
      await caller.send('POST', '/api/v1/authz/check', {
        resource: { type: 'organization', id: user.organizationId },
        permission: 'org:view',
        subject: { type: 'user', id: user.id },
      })
    ).status,
  };
}

const refused = { me: 401, org: 401, rename: 401, check: 401 };

async function logout(target: TestService, refreshToken: string): Promise<void> {
  const response = await target.send('POST', '/api/v1/auth/logout', { refresh_token: refreshToken });
  if (response.status !== 204) throw new Error(`logout answered ${response.status}`);
}

async function login(target: TestService, user: SignedUpUser): Promise<SessionBody> {
  const response = await target.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  return (await response.json()) as SessionBody;
}

/** Polls (no timing is asserted) until the token is refused, for revocations another instance made. */
async function untilRefused(target: TestService, accessToken: string): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < 500; attempt++) {
    status = (await as(target, { accessToken }).get('/api/v1/auth/me')).status;
    if (status === 401) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return status;
}

test("after logout the session's access tokens answer 401 on every route; the user's other sessions still work", async (t) => {
  const user = await signUp(service);
  const other = await login(service, user);
  t.deepEqual(await statusesWith(service, user, user.accessToken), { me: 200, org: 200, rename: 200, check: 200 });

  await logout(service, user.refreshToken);

  const after = await statusesWith(service, user, user.accessToken);
  t.deepEqual(after, refused);
  const body = (await as(service, user).get('/api/v1/auth/me')).headers.get('www-authenticate');
  t.is(body, 'Bearer');
  t.is((await as(service, { accessToken: other.access_token }).get('/api/v1/auth/me')).status, 200, 'another sign-in is another session');
});

test('refresh-token reuse ends the session: the access tokens of the old and the rotated refresh answer 401', async (t) => {
  const user = await signUp(service);
  const rotated = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken });
  t.is(rotated.status, 200);
  const second = (await rotated.json()) as SessionBody;
  t.is(sessionOf(second.access_token), sessionOf(user.accessToken));

  const reuse = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken });
  t.is(reuse.status, 401);

  t.deepEqual(await statusesWith(service, user, user.accessToken), refused);
  t.deepEqual(await statusesWith(service, user, second.access_token), refused);
});

test('a revocation committed by another instance is heard: the token is refused here too', async (t) => {
  const user = await signUp(service);
  t.is((await as(service, user).get('/api/v1/auth/me')).status, 200);
  // What another instance's logout commits: the row and its notification, in one transaction.
  const client = new pg.Client({ connectionString: service.database.url });
  await client.connect();
  t.teardown(() => client.end());
  await client.query('begin');
  await client.query(`insert into revoked_sessions (session_id, expires_at) values ($1, now() + interval '20 minutes')`, [
    sessionOf(user.accessToken),
  ]);
  await client.query(`select pg_notify('tenant_authz_session_revocations', $1)`, [
    `elsewhere ${Date.now()} ${sessionOf(user.accessToken)} ${Date.now() + 1_200_000}`,
  ]);
  await client.query('commit');
  t.is(await untilRefused(service, user.accessToken), 401);
});

test('while the revocation channel is down, revocations it did not hear are still refused (from Postgres)', async (t) => {
  const user = await signUp(service);
  const bystander = await signUp(service);
  const client = new pg.Client({ connectionString: service.database.url });
  await client.connect();
  t.teardown(() => client.end());
  // Cut the listener, then revoke with no notification: only Postgres knows.
  const terminated = await client.query(
    `select pg_terminate_backend(pid) from pg_stat_activity
     where datname = current_database() and application_name = $1`,
    [APPLICATION_NAME],
  );
  t.true(terminated.rows.length > 0, 'the listening connection was cut');
  await client.query(`insert into revoked_sessions (session_id, expires_at) values ($1, now() + interval '20 minutes')`, [
    sessionOf(user.accessToken),
  ]);
  t.is(await untilRefused(service, user.accessToken), 401);
  t.is((await as(service, bystander).get('/api/v1/auth/me')).status, 200, 'other sessions still work');
  // Back, and reloaded: still refused.
  let back = false;
  for (let attempt = 0; attempt < 500 && !back; attempt++) {
    back = /^session_revocation_channel_up 1/m.test(await (await service.request('/metrics')).text());
    if (!back) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.true(back, 'the channel came back');
  t.is((await as(service, user).get('/api/v1/auth/me')).status, 401);
});

test('introspection (service accounts only) reports a live token active with its claims, and inactive after logout', async (t) => {
  const user = await signUp(service);
  const { key } = await makeServiceAccount(service);
  const introspect = (token: unknown, credential = key) =>
    service.send('POST', '/api/v1/auth/introspect', { token }, bearer(credential));

  const live = await introspect(user.accessToken);
  t.is(live.status, 200);
  const claims = decodeJwt(user.accessToken);
  t.deepEqual(await live.json(), {
    active: true,
    token_type: 'access_token',
    sub: user.id,
    sid: claims.sid,
    exp: claims.exp,
    org_id: user.organizationId,
    workspace_id: user.workspaceId,
    email_verified: false,
  });

  for (const garbage of ['garbage', 'a.b.c', `${user.accessToken}x`, key]) {
    const answer = await introspect(garbage);
    t.is(answer.status, 200);
    t.deepEqual(await answer.json(), { active: false });
  }

  t.is((await introspect(user.accessToken, user.accessToken)).status, 401, 'a user token may not introspect');
  t.is((await service.send('POST', '/api/v1/auth/introspect', { token: user.accessToken })).status, 401);

  await logout(service, user.refreshToken);
  t.deepEqual(await (await introspect(user.accessToken)).json(), { active: false });
});

withServer('a logout on one instance is refused on another', async (t) => {
  const [first, second] = await twoInstances(t);
  const user = await signUp(first);
  t.is((await as(second, user).get('/api/v1/auth/me')).status, 200);
  await logout(first, user.refreshToken);
  t.is(await untilRefused(second, user.accessToken), 401);
  t.deepEqual(await statusesWith(second, user, user.accessToken), refused);
});

withServer('a password change on one instance ends the other sessions on another, as a logout does', async (t) => {
  const [first, second] = await twoInstances(t);
  const user = await signUp(first);
  const login = await second.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  const other = (await login.json()) as { access_token: string };
  t.is((await second.request('/api/v1/auth/me', { headers: bearer(other.access_token) })).status, 200);
  const changed = await as(first, user).send('POST', '/api/v1/auth/password/change', { current_password: user.password, new_password: 'Changed-on-the-first-one-5' });
  t.is(changed.status, 204);
  t.is(await untilRefused(second, other.access_token), 401);
  t.is((await as(second, user).get('/api/v1/auth/me')).status, 200, "the caller's own session goes on");
});

function refresh(target: TestService, refreshToken: string): Promise<Response> {
  return target.send('POST', '/api/v1/auth/refresh', { refresh_token: refreshToken });
}

/**
 * The tokens a session ended on `ender` may still hold, checked on both instances: each access
 * token refused (polled: another instance hears of an end within milliseconds), each refresh token
 * refused at once. Answers what survived, so a failure says which.
 */
async function survivors(instances: TestService[], tokens: { access: string[]; refresh: string[] }): Promise<string[]> {
  const alive: string[] = [];
  for (const target of instances) {
    for (const accessToken of tokens.access) {
      if ((await untilRefused(target, accessToken)) !== 401) alive.push(`access token ${sessionOf(accessToken)} on ${target.url}`);
    }
    for (const refreshToken of tokens.refresh) {
      const answer = await refresh(target, refreshToken);
      if (answer.status !== 401) alive.push(`refresh token answered ${answer.status} on ${target.url}`);
    }
  }
  return alive;
}

/** Rounds of a refresh (on `refresher`) sent together with a logout (on `ender`) of the same token. */
async function refreshRacingLogout(t: ExecutionContext, refresher: TestService, ender: TestService, rounds: number) {
  const user = await makeUser(refresher);
  let refreshesThatWon = 0;
  const surviving: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const session = await login(refresher, user);
    const [refreshed, loggedOut] = await Promise.all([
      refresh(refresher, session.refresh_token),
      ender.send('POST', '/api/v1/auth/logout', { refresh_token: session.refresh_token }),
    ]);
    t.is(loggedOut.status, 204);
    t.true([200, 401].includes(refreshed.status), `refresh answered ${refreshed.status}`);
    const tokens = { access: [session.access_token], refresh: [] as string[] };
    if (refreshed.status === 200) {
      refreshesThatWon++;
      const issued = (await refreshed.json()) as SessionBody;
      tokens.access.push(issued.access_token);
      tokens.refresh.push(issued.refresh_token);
    }
    surviving.push(...(await survivors([refresher, ender], tokens)));
  }
  t.log(`${refreshesThatWon} of ${rounds} refreshes committed before the logout (and were ended by it); the rest answered 401`);
  t.deepEqual(surviving, [], 'no token of a logged-out session survives');
}

/**
 * A thief refreshing a stolen token in a loop (on `thief`) while the victim presents the token the
 * thief rotated away (on `victim`): reuse ends the session, and the loop must end with it.
 */
async function refreshLoopRacingReuse(t: ExecutionContext, thief: TestService, victim: TestService, rounds: number) {
  const user = await makeUser(thief);
  const surviving: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const stolen = await login(victim, user);
    const first = await refresh(thief, stolen.refresh_token);
    t.is(first.status, 200);
    let held = (await first.json()) as SessionBody;
    let reuseAnswered = false;
    const loop = async () => {
      // Bounded: a loop still refreshing long after the reuse was answered has survived it.
      for (let afterReuse = 0; afterReuse < 20; afterReuse += reuseAnswered ? 1 : 0) {
        const next = await refresh(thief, held.refresh_token);
        if (next.status !== 200) return next.status;
        held = (await next.json()) as SessionBody;
      }
      return 200;
    };
    const reuse = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const answer = await refresh(victim, stolen.refresh_token);
      reuseAnswered = true;
      return answer.status;
    };
    const [loopEnded, reused] = await Promise.all([loop(), reuse()]);
    t.is(reused, 401, 'the reused token is refused');
    t.is(loopEnded, 401, "the thief's loop ends with a 401");
    surviving.push(...(await survivors([thief, victim], { access: [stolen.access_token, held.access_token], refresh: [held.refresh_token] })));
  }
  t.deepEqual(surviving, [], 'no token of a session ended for reuse survives');
}

test('50 rounds of a refresh racing a logout of the same token: the logout ends whatever the refresh issued', async (t) => {
  await refreshRacingLogout(t, service, service, 50);
});

test("a thief's refresh loop racing the victim's reuse of the rotated token: the session ends, loop and all", async (t) => {
  await refreshLoopRacingReuse(t, service, service, 10);
});

withServer('across two instances: 50 rounds of a refresh on one racing a logout on the other leave no token alive on either', async (t) => {
  const [first, second] = await twoInstances(t);
  await refreshRacingLogout(t, first, second, 50);
});

withServer("across two instances: a thief's refresh loop on one and the victim's reuse on the other end the session on both", async (t) => {
  const [first, second] = await twoInstances(t);
  await refreshLoopRacingReuse(t, first, second, 10);
});
