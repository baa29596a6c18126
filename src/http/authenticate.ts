import type { Context } from 'koa';
import type { SessionRevocations } from '../authz/session-revocations.ts';
import type { ServiceAccount } from '../db/entities/index.ts';
import { Unauthenticated } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from '../services/access-tokens.ts';
import type { Caller } from '../services/authorization.service.ts';
import { isServiceAccountKey, type ServiceAccountService } from '../services/service-account.service.ts';

const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function bearerCredential(ctx: Context): string {
  const header = ctx.get('Authorization');
  if (!header) throw new Unauthenticated('An Authorization: Bearer <credential> header is required');
  const credential = BEARER.exec(header)?.[1];
  if (!credential) throw new Unauthenticated('The Authorization header is not a bearer credential');
  return credential;
}

/**
 * Users: bearer access tokens, verified offline against our own keys, whose session (`sid`) has not
 * ended (logout, refresh-token reuse): an in-memory lookup every instance keeps current.
 */
export function userAuthentication(
  tokens: AccessTokens,
  revocations: SessionRevocations,
): (ctx: Context) => Promise<AccessTokenClaims> {
  return async (ctx) => {
    const credential = bearerCredential(ctx);
    if (!JWT.test(credential)) throw new Unauthenticated('The bearer credential is not an access token');
    const claims = await tokens.verify(credential);
    if (await revocations.isRevoked(claims.sessionId)) throw new Unauthenticated('The session of this access token has ended');
    return claims;
  };
}

/** Service accounts only (token introspection): a user's access token is refused. */
export function serviceAuthentication(serviceAccounts: ServiceAccountService): (ctx: Context) => Promise<ServiceAccount> {
  return async (ctx) => {
    const credential = bearerCredential(ctx);
    if (!isServiceAccountKey(credential)) throw new Unauthenticated('Only a service account key may call this route');
    const account = await serviceAccounts.authenticate(credential);
    if (!account) throw new Unauthenticated('The service account key is unknown or revoked');
    return account;
  };
}

/** The authorization API's callers: a service account's key, or a user's access token. */
export function callerAuthentication(
  tokens: AccessTokens,
  revocations: SessionRevocations,
  serviceAccounts: ServiceAccountService,
): (ctx: Context) => Promise<Caller> {
  const asUser = userAuthentication(tokens, revocations);
  return async (ctx) => {
    const credential = bearerCredential(ctx);
    if (!isServiceAccountKey(credential)) return { kind: 'user', userId: (await asUser(ctx)).userId };
    const account = await serviceAccounts.authenticate(credential);
    if (!account) throw new Unauthenticated('The service account key is unknown or revoked');
    return { kind: 'service', account };
  };
}

/**
 * AuthZEN's callers, as the authorization API's, except that a service account key may come
 * without `Bearer `: PEPs and gateway plugins send a configured header value verbatim.
 */
export function pepAuthentication(
  tokens: AccessTokens,
  revocations: SessionRevocations,
  serviceAccounts: ServiceAccountService,
): (ctx: Context) => Promise<Caller> {
  const asCaller = callerAuthentication(tokens, revocations, serviceAccounts);
  return async (ctx) => {
    const header = ctx.get('Authorization');
    if (!isServiceAccountKey(header) || header.length > 4096) return asCaller(ctx);
    const account = await serviceAccounts.authenticate(header);
    if (!account) throw new Unauthenticated('The service account key is unknown or revoked');
    return { kind: 'service', account };
  };
}
