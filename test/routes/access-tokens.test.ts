import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import {
  base64url,
  createRemoteJWKSet,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { SigningKey } from '../../src/db/entities/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { bearer, makeUser } from '../support/factories.ts';
import { tokenVerifications } from '../support/metrics.ts';
import type { SessionBody } from '../support/responses.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

const service = useTestService(test);

async function statusOfMe(token: string): Promise<number> {
  return (await service.request('/api/v1/auth/me', { headers: bearer(token) })).status;
}

/** Signs with the service's own private key, so only the claim under test is wrong. */
async function signWithServiceKey(
  claims: JWTPayload,
  options: { typ?: string; expiresIn?: string | null; notBefore?: string } = {},
): Promise<string> {
  const key = await service.orm.em.fork().findOneOrFail(SigningKey, { privateJwk: { $ne: null } }, { populate: ['privateJwk'] });
  const privateKey = await importJWK(key.privateJwk as JWK, 'ES256');
  let jwt = new SignJWT({ sid: 'test-session', org_id: null, workspace_id: null, permissions: [], ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: options.typ ?? 'at+jwt' })
    .setIssuedAt()
    .setJti('test-token');
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? '5m');
  if (options.notBefore) jwt = jwt.setNotBefore(options.notBefore);
  return jwt.sign(privateKey);
}

const valid = (sub: string): JWTPayload => ({ sub, iss: 'tenant-authz', aud: 'tenant-authz' });

test('a token forged with our key and correct claims is accepted (the baseline for the cases below)', async (t) => {
  const user = await makeUser(service);
  t.is(await statusOfMe(await signWithServiceKey(valid(user.id))), 200);
});

test('alg "none" in any letter case is rejected', async (t) => {
  const user = await makeUser(service);
  const { kid } = decodeProtectedHeader(user.accessToken);
  const payload = base64url.encode(JSON.stringify({ ...valid(user.id), exp: Math.floor(Date.now() / 1000) + 300, jti: 'x', iat: 1 }));
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const header = base64url.encode(JSON.stringify({ alg, kid, typ: 'at+jwt' }));
    t.is(await statusOfMe(`${header}.${payload}.`), 401, alg);
  }
});

test('an HS256 token whose secret is our public key is rejected', async (t) => {
  const user = await makeUser(service);
  const { keys } = (await (await service.request('/.well-known/jwks.json')).json()) as { keys: JWK[] };
  const publicJwk = keys[0] as JWK;
  const publicPem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
  for (const secret of [publicPem, JSON.stringify(publicJwk)]) {
    const forged = await new SignJWT({ ...valid(user.id), permissions: [] })
      .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid ?? '', typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('x')
      .sign(new TextEncoder().encode(secret));
    t.is(await statusOfMe(forged), 401);
  }
});

test('a tampered payload is rejected', async (t) => {
  const [victim, attacker] = [await makeUser(service), await makeUser(service)];
  const [header, payload, signature] = attacker.accessToken.split('.');
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? ''))) as JWTPayload;
  const tampered = base64url.encode(JSON.stringify({ ...claims, sub: victim.id }));
  t.is(await statusOfMe(`${header}.${tampered}.${signature}`), 401);
});

// The verification counters are the service's, so the tests that read them run one at a time.
test.serial('a token verified once is remembered by its hash, yet refused at once when its session ends', async (t) => {
  const user = await makeUser(service);
  t.is(await statusOfMe(user.accessToken), 200);
  const [verified, remembered] = [await tokenVerifications(service, 'verified'), await tokenVerifications(service, 'remembered')];
  t.is(await statusOfMe(user.accessToken), 200);
  t.is(await tokenVerifications(service, 'remembered'), remembered + 1, 'the second use skips the signature');
  t.is(await tokenVerifications(service, 'verified'), verified);
  const logout = await service.send('POST', '/api/v1/auth/logout', { refresh_token: user.refreshToken });
  t.is(logout.status, 204);
  t.is(await statusOfMe(user.accessToken), 401, 'remembering the signature never outlives the session');
});

test.serial('a remembered token is refused once it expires', async (t) => {
  const user = await makeUser(service);
  const token = await signWithServiceKey(valid(user.id), { expiresIn: '1s' });
  t.is(await statusOfMe(token), 200);
  t.is(await statusOfMe(token), 200);
  // Past exp and the 5 s of clock tolerance every verification allows.
  await new Promise((resolve) => setTimeout(resolve, 7_000));
  t.is(await statusOfMe(token), 401);
});

test('a wrong audience, a wrong issuer, or a wrong typ is rejected', async (t) => {
  const user = await makeUser(service);
  t.is(await statusOfMe(await signWithServiceKey({ ...valid(user.id), aud: 'another-service' })), 401);
  t.is(await statusOfMe(await signWithServiceKey({ ...valid(user.id), iss: 'https://evil.example' })), 401);
  t.is(await statusOfMe(await signWithServiceKey(valid(user.id), { typ: 'JWT' })), 401);
});

test('an expired token, a not-yet-valid token and a token without exp are rejected', async (t) => {
  const user = await makeUser(service);
  t.is(await statusOfMe(await signWithServiceKey(valid(user.id), { expiresIn: '-1m' })), 401);
  t.is(await statusOfMe(await signWithServiceKey(valid(user.id), { notBefore: '5m' })), 401);
  t.is(await statusOfMe(await signWithServiceKey(valid(user.id), { expiresIn: null })), 401);
});

test('a token signed by a key with an unknown kid is rejected', async (t) => {
  const user = await makeUser(service);
  const { privateKey } = await generateKeyPair('ES256');
  const forged = await new SignJWT({ ...valid(user.id), permissions: [] })
    .setProtectedHeader({ alg: 'ES256', kid: 'not-one-of-ours', typ: 'at+jwt' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti('x')
    .sign(privateKey);
  t.is(await statusOfMe(forged), 401);
});

test("an access token verifies with jose's remote JWKS set against /.well-known/jwks.json", async (t) => {
  const user = await makeUser(service);
  const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(user.accessToken, jwks, {
    issuer: 'tenant-authz',
    audience: 'tenant-authz',
    algorithms: ['ES256'],
  });
  t.is(payload.sub, user.id);
  t.is(payload.org_id, user.organizationId);
  t.truthy(protectedHeader.kid);
});

test('the JWKS serves public keys only', async (t) => {
  const { keys } = (await (await service.request('/.well-known/jwks.json')).json()) as { keys: JWK[] };
  t.true(keys.length >= 1);
  for (const key of keys) {
    t.is(key.d, undefined);
    t.like(key, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  }
});

test('generated keys survive a restart, and a newly configured key keeps the previous one in the JWKS', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());

  const before = await startTestService({ database });
  const user = await makeUser(before);
  const { kid: generatedKid } = decodeProtectedHeader(user.accessToken);
  await before.stop();

  const restarted = await startTestService({ database });
  t.is((await restarted.request('/api/v1/auth/me', { headers: bearer(user.accessToken) })).status, 200);
  await restarted.stop();

  const configuredKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const rotated = await startTestService({ database, environment: { JWT_PRIVATE_KEY: configuredKey.toString() } });
  t.teardown(() => rotated.stop());
  t.is((await rotated.request('/api/v1/auth/me', { headers: bearer(user.accessToken) })).status, 200, 'a token in flight still verifies');
  const login = (await (await rotated.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password })).json()) as SessionBody;
  const { kid: configuredKid } = decodeProtectedHeader(login.access_token);
  t.not(configuredKid, generatedKid);
  const { keys } = (await (await rotated.request('/.well-known/jwks.json')).json()) as { keys: JWK[] };
  t.deepEqual(keys.map((key) => key.kid), [configuredKid, generatedKid]);
});
