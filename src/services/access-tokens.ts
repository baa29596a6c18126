import { createPublicKey, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import type { Config } from '../config.ts';
import { parsePrivateKey } from '../key-material.ts';
import { SigningKey } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Unauthenticated } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 5;
/** The JWKS serves the signing key and the one before it, so a rotation breaks no token in flight. */
const PUBLISHED_KEYS = 2;
/** Verified tokens remembered (about 1 KiB each): the live tokens of this many users at once. */
const REMEMBERED_TOKENS = 10_000;

export interface AccessTokenContext {
  /** The refresh-token family (the sign-in session) the token belongs to: the `sid` claim. */
  sessionId: string;
  organizationId: string | null;
  workspaceId: string | null;
  /** Registry names; a hint for front ends. The service itself always asks SpiceDB. */
  permissions: string[];
  /** Whether the user had proven their address when the token was issued (the `email_verified` claim). */
  emailVerified: boolean;
}

export interface AccessTokenClaims extends AccessTokenContext {
  userId: string;
  expiresAt: Date;
}

interface SigningMaterial {
  kid: string;
  key: CryptoKey | KeyObject;
  publicJwk: JWK;
}

/**
 * Signs and verifies access tokens (asymmetric JWTs with jose). Keys live in Postgres so every
 * instance shares them; a configured JWT_PRIVATE_KEY takes precedence over a generated one.
 */
export class AccessTokens {
  private readonly jwt: Config['jwt'];
  private readonly signing: SigningMaterial;
  private readonly publishedKeys: JWK[];
  private readonly verificationKeys: JWTVerifyGetKey;
  private readonly verified = new VerifiedTokens(REMEMBERED_TOKENS, CLOCK_TOLERANCE_SECONDS * 1000);
  private readonly metrics: Metrics;

  private constructor(
    jwt: Config['jwt'],
    signing: SigningMaterial,
    publishedKeys: JWK[],
    verificationKeys: JWTVerifyGetKey,
    metrics: Metrics,
  ) {
    this.jwt = jwt;
    this.signing = signing;
    this.publishedKeys = publishedKeys;
    this.verificationKeys = verificationKeys;
    this.metrics = metrics;
  }

  static async load(orm: Orm, jwt: Config['jwt'], metrics: Metrics): Promise<AccessTokens> {
    const em = orm.em.fork();
    const signing = await em.transactional(async (tx) => {
      // One instance at a time decides which key signs, so parallel first boots agree.
      await tx.execute(`select pg_advisory_xact_lock(hashtext('signing_keys'))`);
      return jwt.privateKey ? recordConfiguredKey(tx, jwt) : findOrGenerateKey(tx, jwt);
    });
    const others = await em.find(
      SigningKey,
      { algorithm: jwt.algorithm, kid: { $ne: signing.kid } },
      { orderBy: { createdAt: 'desc' }, limit: PUBLISHED_KEYS - 1 },
    );
    const published = [signing.publicJwk, ...others.map((key) => key.publicJwk)];
    return new AccessTokens(jwt, signing, published, createLocalJWKSet({ keys: published }), metrics);
  }

  get lifetimeSeconds(): number {
    return this.jwt.accessTtlSeconds;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.publishedKeys };
  }

  async issue(userId: string, context: AccessTokenContext): Promise<string> {
    return new SignJWT({
      sid: context.sessionId,
      org_id: context.organizationId,
      workspace_id: context.workspaceId,
      permissions: context.permissions,
      email_verified: context.emailVerified,
    })
      .setProtectedHeader({ alg: this.jwt.algorithm, kid: this.signing.kid, typ: ACCESS_TOKEN_TYPE })
      .setSubject(userId)
      .setIssuer(this.jwt.issuer)
      .setAudience(this.jwt.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.jwt.accessTtlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.signing.key);
  }

  /** Only the configured algorithm, our issuer and audience, a known kid, and a live exp/nbf. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const key = VerifiedTokens.keyOf(token);
    const remembered = this.verified.recall(key);
    if (remembered) {
      this.metrics.accessTokenVerifications.inc({ result: 'remembered' });
      return remembered;
    }
    const claims = Object.freeze(await this.verifySignature(token));
    this.metrics.accessTokenVerifications.inc({ result: 'verified' });
    this.verified.remember(key, claims);
    return claims;
  }

  private async verifySignature(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.verificationKeys, {
        algorithms: [this.jwt.algorithm],
        issuer: this.jwt.issuer,
        audience: this.jwt.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
      });
      return {
        userId: String(payload.sub),
        sessionId: String(payload.sid),
        expiresAt: new Date(Number(payload.exp) * 1000),
        organizationId: typeof payload.org_id === 'string' ? payload.org_id : null,
        workspaceId: typeof payload.workspace_id === 'string' ? payload.workspace_id : null,
        permissions: Array.isArray(payload.permissions) ? payload.permissions.map(String) : [],
        emailVerified: payload.email_verified === true,
      };
    } catch (error) {
      throw new Unauthenticated('The access token is invalid or expired', { cause: error });
    }
  }
}

async function publicJwkOf(key: CryptoKey | KeyObject, algorithm: string): Promise<{ kid: string; jwk: JWK }> {
  const jwk = await exportJWK(key);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kid, alg: algorithm, use: 'sig' } };
}

/** JWT_PRIVATE_KEY is PEM (PKCS#8) or a JWK; only its public half is recorded, for the JWKS. */
async function recordConfiguredKey(tx: Orm['em'], jwt: Config['jwt']): Promise<SigningMaterial> {
  const privateKey = parsePrivateKey(jwt.privateKey ?? '');
  const { kid, jwk } = await publicJwkOf(createPublicKey(privateKey), jwt.algorithm);
  if (!(await tx.findOne(SigningKey, { kid }))) {
    tx.persist(new SigningKey(kid, jwt.algorithm, jwk, null));
    await tx.flush();
  }
  return { kid, key: privateKey, publicJwk: jwk };
}

async function findOrGenerateKey(tx: Orm['em'], jwt: Config['jwt']): Promise<SigningMaterial> {
  const existing = await tx.findOne(
    SigningKey,
    { algorithm: jwt.algorithm, privateJwk: { $ne: null } },
    { orderBy: { createdAt: 'desc' }, populate: ['privateJwk'] },
  );
  if (existing?.privateJwk) {
    const key = await importJWK(existing.privateJwk, jwt.algorithm);
    if (key instanceof Uint8Array) throw new Error(`Signing key ${existing.kid} is not an asymmetric key`);
    return { kid: existing.kid, key, publicJwk: existing.publicJwk };
  }
  const { publicKey, privateKey } = await generateKeyPair(jwt.algorithm, { extractable: true });
  const { kid, jwk } = await publicJwkOf(publicKey, jwt.algorithm);
  tx.persist(new SigningKey(kid, jwt.algorithm, jwk, { ...(await exportJWK(privateKey)), kid, alg: jwt.algorithm }));
  await tx.flush();
  return { kid, key: privateKey, publicJwk: jwk };
}
