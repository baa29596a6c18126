import test from 'ava';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Organization, OrganizationMembership, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { bearer, newSignup, makeUser, signUp, uniqueName } from '../support/factories.ts';
import type { MeBody, SessionBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const logLines: string[] = [];
const service = useTestService(test, { environment: { LOG_LEVEL: 'debug' }, logLines });

test('signup answers 201 with bearer tokens and the user, never the password', async (t) => {
  const input = newSignup();
  const response = await service.send('POST', '/api/v1/auth/email/signup', input);
  t.is(response.status, 201);
  const text = await response.text();
  t.false(text.includes(input.password));
  const session = JSON.parse(text) as SessionBody;
  t.is(session.token_type, 'bearer');
  t.is(session.expires_in, 900);
  t.true(session.refresh_token.length >= 40);
  t.deepEqual(Object.keys(session.user).sort(), ['created_at', 'email', 'email_verified', 'email_verified_at', 'id', 'username']);
  t.like(session.user, { username: input.username, email: input.email, email_verified_at: null });
});

test("signup creates the user's own organization and default workspace, owned and administered by them", async (t) => {
  const user = await signUp(service);
  const em = service.orm.em.fork();
  const organization = await em.findOneOrFail(Organization, { id: user.organizationId });
  t.is(organization.billingEmail, user.email);
  t.is(organization.subscriptionTier, 'free');
  const ownership = await em.findOneOrFail(OrganizationMembership, { organization, user: user.id });
  t.is(ownership.role, 'owner');
  const workspace = await em.findOneOrFail(Workspace, { id: user.workspaceId, organization });
  t.is(workspace.name, 'Default Workspace');
  t.is((await em.findOneOrFail(WorkspaceMembership, { workspace, user: user.id })).role, 'admin');

  const check = await service.spicedb.checkPermission(
    { resource: { type: 'organization', id: user.organizationId }, permission: 'delete', subject: { type: 'user', id: user.id } },
    { kind: 'fully_consistent' },
  );
  t.true(check.allowed, 'the owner tuple reached SpiceDB');
});

test('signup and login answer the default org_id and workspace_id in the body, as the token carries them', async (t) => {
  const input = newSignup();
  const signup = (await (await service.send('POST', '/api/v1/auth/email/signup', input)).json()) as SessionBody;
  const claims = decodeJwt(signup.access_token);
  t.truthy(signup.context.org_id);
  t.truthy(signup.context.workspace_id);
  t.deepEqual(signup.context, { org_id: claims.org_id, workspace_id: claims.workspace_id });
  const workspace = await service.orm.em.fork().findOneOrFail(Workspace, { id: signup.context.workspace_id ?? '' });
  t.is(workspace.name, 'Default Workspace');

  const login = await service.send('POST', '/api/v1/auth/email/login', { email: input.email, password: input.password });
  t.is(login.status, 200);
  t.deepEqual(((await login.json()) as SessionBody).context, signup.context);
});

test("the signup token carries the new context and every permission the owner holds there", async (t) => {
  const user = await signUp(service);
  const claims = decodeJwt(user.accessToken);
  t.is(claims.sub, user.id);
  t.is(claims.org_id, user.organizationId);
  t.is(claims.workspace_id, user.workspaceId);
  t.deepEqual(
    [...(claims.permissions as string[])].sort(),
    [
      'org:audit_log', 'org:billing', 'org:billing_update', 'org:create_workspace', 'org:delete', 'org:invite', 'org:manage_teams', 'org:remove_member',
      'org:transfer_ownership', 'org:update', 'org:update_member', 'org:view', 'org:manage_roles', 'org:view_workspaces', 'org:edit_workspaces',
      'org:update_workspaces', 'org:delete_workspaces', 'org:manage_workspace_members',
      'workspace:delete', 'workspace:edit', 'workspace:manage_members', 'workspace:update', 'workspace:view',
    ].sort(),
  );
});

test('a taken username or email (in any letter case) answers 409', async (t) => {
  const user = await signUp(service);
  const sameName = await service.send('POST', '/api/v1/auth/email/signup', newSignup({ username: user.username }));
  t.is(sameName.status, 409);
  const sameEmail = await service.send('POST', '/api/v1/auth/email/signup', newSignup({ email: user.email.toUpperCase() }));
  t.is(sameEmail.status, 409);
  t.is(sameEmail.headers.get('content-type'), 'application/problem+json');
});

test('invalid signup fields answer 422 with an error per field, and create nothing', async (t) => {
  const username = 'Bad Name!';
  const response = await service.send('POST', '/api/v1/auth/email/signup', {
    username,
    email: 'not-an-email',
    password: 'short',
    is_admin: true,
  });
  t.is(response.status, 422);
  const problem = (await response.json()) as { errors: Array<{ field: string }> };
  t.deepEqual(problem.errors.map((error) => error.field).sort(), [
    'body.email',
    'body.is_admin',
    'body.password',
    'body.username',
  ]);
  t.is(await service.orm.em.fork().count(Organization, { name: `${username}'s organization` }), 0);
});

test('usernames are 3-32 characters of a-z 0-9 _ . -, passwords 8-128 characters', async (t) => {
  const status = async (overrides: Parameters<typeof newSignup>[0]) =>
    (await service.send('POST', '/api/v1/auth/email/signup', newSignup(overrides))).status;
  t.is(await status({ username: 'ab' }), 422);
  t.is(await status({ username: 'a'.repeat(33) }), 422);
  t.is(await status({ username: `ok.name-${Date.now()}` }), 201);
  t.is(await status({ password: 'x'.repeat(7) }), 422);
  t.is(await status({ password: 'x'.repeat(129) }), 422);
  t.is(await status({ password: 'Correct-Horse-9-'.repeat(8) }), 201, 'a strong password of 128 characters');
});

/** A signup with these fields: its status, its field errors, and whether it created anything. */
async function signupRefusal(overrides: Parameters<typeof newSignup>[0]) {
  const input = newSignup(overrides);
  const response = await service.send('POST', '/api/v1/auth/email/signup', input);
  const problem = (await response.json()) as { errors?: Array<{ field: string; message: string }> };
  const created = await service.orm.em.fork().count(Organization, { name: `${input.username}'s organization` });
  return { status: response.status, errors: problem.errors ?? [], created };
}

test("signup refuses common passwords, whitespace-only passwords and ones containing the email's local part, naming it, 422 on body.password", async (t) => {
  for (const [password, reason] of [
    ['password1', /too easy to guess/],
    ['Password1', /too easy to guess/],
    ['12345678', /too easy to guess/],
    ['qwertyuiop', /too easy to guess/],
    ['        ', /whitespace/],
    ['\t\n \u00a0  \t\n', /whitespace/],
  ] as const) {
    const { status, errors, created } = await signupRefusal({ password });
    t.is(status, 422, password);
    t.deepEqual(errors.map((error) => error.field), ['body.password'], password);
    t.regex(errors[0]?.message ?? '', reason, password);
    t.is(created, 0);
  }
  const own = await signupRefusal({ email: 'marguerite.d@example.com', password: 'Marguerite.D-2026!' });
  t.is(own.status, 422);
  t.is(own.errors[0]?.message, 'must not contain "marguerite.d", the part of your email address before the @');
  t.is((await signupRefusal({ password: 'Correct-Horse-9' })).status, 201, 'an uncommon password is accepted');
});

test("signup judges a password by zxcvbn's full estimate (score 3 of 4), the user's own name and the product's name counted as guessable: 422 on body.password", async (t) => {
  const username = uniqueName('ada');
  // An address that does not hold the username, so only the estimate can refuse `${username}123`.
  const email = `${uniqueName('lovelace')}@example.com`;
  for (const password of ['aaaaaaaaaa', 'abcdefgh', 'Summer2024!', 'P@ssw0rd!', 'Company2024', `${username}123`, 'Tenant-Authz-2026', 'TenantAuthz2026!']) {
    const { status, errors, created } = await signupRefusal({ username, email, password });
    t.is(status, 422, password);
    t.deepEqual(errors.map((error) => error.field), ['body.password'], password);
    t.regex(errors[0]?.message ?? '', /too easy to guess/, password);
    t.is(created, 0, password);
  }
  t.is((await signupRefusal({ username, email, password: 'correct horse battery staple' })).status, 201, 'a long passphrase is accepted');
});

test('login answers 200 with the same body, matching the email in any letter case', async (t) => {
  const user = await makeUser(service);
  const response = await service.send('POST', '/api/v1/auth/email/login', {
    email: user.email.toUpperCase(),
    password: user.password,
  });
  t.is(response.status, 200);
  const session = (await response.json()) as SessionBody;
  t.is(session.user.id, user.id);
  t.is(decodeJwt(session.access_token).org_id, user.organizationId);
});

test('a wrong password and an unknown email get the same 401', async (t) => {
  const user = await makeUser(service);
  const wrongPassword = await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: 'wrong-password' });
  const unknownEmail = await service.send('POST', '/api/v1/auth/email/login', {
    email: `nobody-${user.username}@example.com`,
    password: 'wrong-password',
  });
  t.is(wrongPassword.status, 401);
  t.is(unknownEmail.status, 401);
  const [first, second] = (await Promise.all([wrongPassword.json(), unknownEmail.json()])) as Array<Record<string, unknown>>;
  t.is(first?.detail, second?.detail);
  t.is(wrongPassword.headers.get('www-authenticate'), 'Bearer');
});

test('passwords appear in no log line', async (t) => {
  const user = await signUp(service);
  await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password });
  await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: `${user.password}-wrong` });
  t.true(logLines.length > 0);
  t.false(logLines.some((line) => line.includes(user.password)));
});

test('a refresh token is single use: it yields new tokens once, and reusing it revokes its whole family', async (t) => {
  const user = await makeUser(service);
  const first = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken });
  t.is(first.status, 200);
  const rotated = (await first.json()) as SessionBody;
  t.not(rotated.refresh_token, user.refreshToken);
  t.is(decodeJwt(rotated.access_token).org_id, user.organizationId, 'the context is kept');

  const replay = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken });
  t.is(replay.status, 401);
  const afterReplay = await service.send('POST', '/api/v1/auth/refresh', { refresh_token: rotated.refresh_token });
  t.is(afterReplay.status, 401, 'the rotated token of the same family is revoked too');
});

test('the same refresh token sent twice at once succeeds at most once', async (t) => {
  const user = await makeUser(service);
  const statuses = await Promise.all(
    [1, 2].map(async () => (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken })).status),
  );
  t.deepEqual(statuses.sort(), [200, 401]);
});

test("logout revokes the presented token's family", async (t) => {
  const user = await makeUser(service);
  const rotated = (await (await service.send('POST', '/api/v1/auth/refresh', { refresh_token: user.refreshToken })).json()) as SessionBody;
  const logout = await service.send('POST', '/api/v1/auth/logout', { refresh_token: rotated.refresh_token });
  t.is(logout.status, 204);
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: rotated.refresh_token })).status, 401);
});

test('an unknown refresh token answers 401, and logging it out reveals nothing', async (t) => {
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: 'not-a-token' })).status, 401);
  t.is((await service.send('POST', '/api/v1/auth/logout', { refresh_token: 'not-a-token' })).status, 204);
});

test('GET /auth/me answers the user and the context of the presented token', async (t) => {
  const user = await makeUser(service);
  const response = await service.request('/api/v1/auth/me', { headers: bearer(user.accessToken) });
  t.is(response.status, 200);
  const me = (await response.json()) as MeBody;
  t.like(me.user, { id: user.id, username: user.username, email: user.email });
  t.deepEqual(me.context, { org_id: user.organizationId, workspace_id: user.workspaceId });
});

test('GET /auth/me without a token, or with a malformed header, answers 401 with WWW-Authenticate: Bearer', async (t) => {
  const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Basic dXNlcjpwdw==' }, { Authorization: 'Bearer not-a-jwt' }];
  for (const headers of attempts) {
    const response = await service.request('/api/v1/auth/me', { headers });
    t.is(response.status, 401);
    t.is(response.headers.get('www-authenticate'), 'Bearer');
    t.is(response.headers.get('content-type'), 'application/problem+json');
  }
});

test('access tokens are ES256 JWTs with a kid, typ at+jwt, and the registered claims', async (t) => {
  const user = await signUp(service);
  const header = decodeProtectedHeader(user.accessToken);
  t.is(header.alg, 'ES256');
  t.is(header.typ, 'at+jwt');
  t.truthy(header.kid);
  const claims = decodeJwt(user.accessToken);
  t.is(claims.iss, 'tenant-authz');
  t.is(claims.aud, 'tenant-authz');
  t.truthy(claims.jti);
  t.is(Number(claims.exp) - Number(claims.iat), 900);
});
