import type { Context } from 'koa';
import { Unauthenticated } from '../errors.js';
import type { AccessTokenClaims, AccessTokens } from '../services/access-tokens.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** Bearer access tokens only: verified offline against our own keys, no store consulted. */
export function bearerAuthentication(tokens: AccessTokens): (ctx: Context) => Promise<AccessTokenClaims> {
  return async (ctx) => {
    const header = ctx.get('Authorization');
    if (!header) throw new Unauthenticated('An Authorization: Bearer <access token> header is required');
    const match = BEARER.exec(header);
    if (!match?.[1]) throw new Unauthenticated('The Authorization header is not a bearer JWT');
    return tokens.verify(match[1]);
  };
}
