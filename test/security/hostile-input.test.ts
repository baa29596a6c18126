import test from 'ava';
import { generateKeyPair, SignJWT } from 'jose';
import { Organization, OrganizationMembership, Team, User, Workspace } from '../../src/db/entities/index.ts';
import { as, bearer, newSignup, makeUser, type SignedUpUser } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

test('a flood of tokens with unknown kids gets 401 each, verified against the local key set only', async (t) => {
  const user = await makeUser(service);
  const { privateKey } = await generateKeyPair('ES256');
  const tokens = await Promise.all(
    Array.from({ length: 200 }, (_, index) =>
      new SignJWT({ sid: 's', permissions: [] })
        .setProtectedHeader({ alg: 'ES256', kid: `attacker-kid-${index}`, typ: 'at+jwt' })
        .setSubject(user.id)
        .setIssuer('tenant-authz')
        .setAudience('tenant-authz')
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(String(index))
        .sign(privateKey),
    ),
  );
  const statuses = await Promise.all(
    tokens.map(async (token) => (await service.request('/api/v1/auth/me', { headers: bearer(token) })).status),
  );
  t.deepEqual([...new Set(statuses)], [401]);
  const jwks = (await (await service.request('/.well-known/jwks.json')).json()) as { keys: unknown[] };
  t.is(jwks.keys.length, 1, 'no key was fetched or added on their account');
});

test('deeply nested JSON answers 400 and reaches no handler', async (t) => {
  const depth = 10_000;
  const response = await service.request('/api/v1/auth/email/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"email":${'['.repeat(depth)}${']'.repeat(depth)},"password":"x"}`,
  });
  t.is(response.status, 400);
  t.is(response.headers.get('content-type'), 'application/problem+json');
});

test('a 1 MB password answers 422 before any hashing, and creates nothing', async (t) => {
  const input = newSignup({ password: 'p'.repeat(1_000_000) });
  const response = await service.send('POST', '/api/v1/auth/email/signup', input);
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.password' }] });
  t.is(await service.orm.em.fork().count(User, { username: input.username }), 0);
  const login = await service.send('POST', '/api/v1/auth/email/login', { email: input.email, password: input.password });
  t.is(login.status, 422);
});

test('a body with a __proto__ key answers 422 naming the field, and changes nothing', async (t) => {
  const user = await makeUser(service);
  const response = await service.request(`/api/v1/orgs/${user.organizationId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...bearer(user.accessToken) },
    body: '{"name":"Renamed","__proto__":{"admin":true}}',
  });
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.__proto__' }] });
  const organization = await service.orm.em.fork().findOneOrFail(Organization, { id: user.organizationId });
  t.not(organization.name, 'Renamed');
});

/** Every field that takes a name or a description, for one user who may write each. */
async function nameFields(user: SignedUpUser) {
  const team = await as(service, user).send('POST', `/api/v1/orgs/${user.organizationId}/teams`, { name: 'Support' });
  const teamId = ((await team.json()) as { id: string }).id;
  const org = `/api/v1/orgs/${user.organizationId}`;
  return {
    names: [
      ['POST /orgs', 'POST', '/api/v1/orgs'],
      ['PATCH /orgs/{id}', 'PATCH', org],
      ['POST /orgs/{id}/workspaces', 'POST', `${org}/workspaces`],
      ['PATCH /workspaces/{id}', 'PATCH', `/api/v1/workspaces/${user.workspaceId}`],
      ['POST /orgs/{id}/teams', 'POST', `${org}/teams`],
      ['PATCH /teams/{id}', 'PATCH', `/api/v1/teams/${teamId}`],
    ] as const,
    descriptions: [
      ['POST /orgs/{id}/workspaces', 'POST', `${org}/workspaces`],
      ['PATCH /workspaces/{id}', 'PATCH', `/api/v1/workspaces/${user.workspaceId}`],
      ['POST /orgs/{id}/teams', 'POST', `${org}/teams`],
      ['PATCH /teams/{id}', 'PATCH', `/api/v1/teams/${teamId}`],
    ] as const,
  };
}

/** What the user's organization holds that a name or description could have changed. */
async function storedNames(user: SignedUpUser) {
  const em = service.orm.em.fork();
  const memberships = await em.count(OrganizationMembership, { user: user.id });
  const workspaces = await em.find(Workspace, { organization: user.organizationId }, { orderBy: { id: 'asc' } });
  const teams = await em.find(Team, { organization: user.organizationId }, { orderBy: { id: 'asc' } });
  return {
    memberships,
    organization: (await em.findOneOrFail(Organization, { id: user.organizationId })).name,
    workspaces: workspaces.map((row) => [row.name, row.description]),
    teams: teams.map((row) => [row.name, row.description]),
  };
}

async function firstError(response: Response): Promise<{ field: string; message: string } | undefined> {
  return ((await response.json()) as { errors?: Array<{ field: string; message: string }> }).errors?.[0];
}

const INVISIBLE_NAMES = {
  'zero-width spaces': '\u200B\u200B',
  'a byte-order mark': '\uFEFF',
  'the Hangul filler U+3164': '\u3164\u3164',
  'the blank Braille pattern U+2800': '\u2800',
  'tag characters': '\u{E0041}\u{E0042}\u{E007F}',
  'combining marks alone': '\u0301\u0308',
  'fillers between spaces': ' \u3164 \u2800 \u115F ',
};

test('a name made only of characters that show nothing answers 422 naming it, on every name field, and stores nothing', async (t) => {
  const user = await makeUser(service);
  const { names } = await nameFields(user);
  const before = await storedNames(user);
  for (const [route, method, path] of names) {
    for (const [what, name] of Object.entries(INVISIBLE_NAMES)) {
      const response = await as(service, user).send(method, path, { name });
      t.is(response.status, 422, `${route}: ${what}`);
      t.deepEqual(await firstError(response), { field: 'body.name', message: 'must contain visible characters' }, `${route}: ${what}`);
    }
  }
  t.deepEqual(await storedNames(user), before);
});

test('control characters and bidi overrides in names and descriptions answer 422 naming the field, and are never stored', async (t) => {
  const user = await makeUser(service);
  const { names, descriptions } = await nameFields(user);
  const before = await storedNames(user);
  const refusedNames = ['Acme\r\nBcc: victim@example.com', 'Tab\there', 'Next\u0085line', 'Del\u007F', 'Sales\u202Etxt.exe', 'Isolated\u2066name\u2069'];
  for (const [route, method, path] of names) {
    for (const name of refusedNames) {
      const response = await as(service, user).send(method, path, { name });
      t.is(response.status, 422, `${route}: ${JSON.stringify(name)}`);
      t.is((await firstError(response))?.field, 'body.name', `${route}: ${JSON.stringify(name)}`);
    }
  }
  for (const [route, method, path] of descriptions) {
    for (const description of ['Line one\r\nLine two', 'Bell\u0007', 'Reads \u202Eright to left', 'Embedded \u202Atext\u202C']) {
      const response = await as(service, user).send(method, path, { name: `Named ${method}`, description });
      t.is(response.status, 422, `${route}: ${JSON.stringify(description)}`);
      t.is((await firstError(response))?.field, 'body.description', `${route}: ${JSON.stringify(description)}`);
    }
  }
  t.deepEqual(await storedNames(user), before);
});

test('names that show something are stored as sent, trimmed: accents as combining marks, other scripts, emoji; descriptions keep their line feeds', async (t) => {
  const user = await makeUser(service);
  for (const name of ['Cafe\u0301', '日本支社', 'Bots 🤖', 'שלום']) {
    const created = await as(service, user).send('POST', `/api/v1/orgs/${user.organizationId}/teams`, { name: `  ${name}  ` });
    t.is(created.status, 201, name);
    t.is(((await created.json()) as { name: string }).name, name);
  }
  const team = await as(service, user).send('POST', `/api/v1/orgs/${user.organizationId}/teams`, { name: 'Notes', description: 'First line\nSecond line' });
  t.is(team.status, 201);
  t.like(await team.json(), { description: 'First line\nSecond line' });
});
