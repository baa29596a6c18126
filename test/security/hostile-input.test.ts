import test from 'ava';
import { generateKeyPair, SignJWT } from 'jose';
import { Organization, User } from '../../src/db/entities/index.ts';
import { bearer, newSignup, makeUser } from '../support/factories.ts';
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

test('names made only of invisible characters are refused, and bidi overrides are stripped', async (t) => {
  const user = await makeUser(service);
  for (const name of ['\u200B\u200B', '\u202E\u2066 \u200D', '\uFEFF']) {
    const refused = await service.send('POST', '/api/v1/orgs', { name }, bearer(user.accessToken));
    t.is(refused.status, 422, JSON.stringify(name));
    t.like(await refused.json(), { errors: [{ field: 'body.name' }] });
  }
  const created = await service.send('POST', `/api/v1/orgs/${user.organizationId}/workspaces`, { name: 'Sales\u202Etxt.exe' }, bearer(user.accessToken));
  t.is(((await created.json()) as { name: string }).name, 'Salestxt.exe');
});
