import type { Authorizer } from '../authz/authorizer.ts';
import type { ServiceAccount } from '../db/entities/index.ts';
import type { AccessTokenClaims } from './access-tokens.ts';
import type { IdentityService } from './identity.service.ts';

/**
 * RFC 7662 introspection for service accounts. An account limited to named organizations learns
 * about a token only if its user is a member of one of them (org:view, asked of SpiceDB): any
 * other token is inactive for it, as a resource of another tenant is invisible to it.
 */
export class IntrospectionService {
  private readonly identity: IdentityService;
  private readonly authorizer: Authorizer;

  constructor(identity: IdentityService, authorizer: Authorizer) {
    this.identity = identity;
    this.authorizer = authorizer;
  }

  /** The token's claims if it is live and the account may know of its user; null otherwise. */
  async introspect(account: ServiceAccount, token: string): Promise<AccessTokenClaims | null> {
    const claims = await this.identity.introspect(token);
    if (!claims || account.organizationIds === null) return claims;
    const memberOf = await this.authorizer.allowedAmong(claims.userId, 'org:view', account.organizationIds);
    return memberOf.size > 0 ? claims : null;
  }
}
