import type { User } from '../../db/entities/index.ts';
import type { AccessTokenClaims } from '../../services/access-tokens.ts';
import type { Session, SignedIn, SwitchedContext } from '../../services/identity.service.ts';
import type { TenantContext } from '../../services/session-context.ts';

export function presentUser(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    email_verified: user.emailVerifiedAt !== null,
    email_verified_at: user.emailVerifiedAt?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
  };
}

export function presentSwitchedContext(switched: SwitchedContext) {
  return {
    access_token: switched.accessToken,
    token_type: 'bearer' as const,
    expires_in: switched.expiresIn,
    user: presentUser(switched.user),
    context: presentContext(switched.context),
  };
}

/** The token's tenant context, so a client need not decode the JWT to learn its ids. */
function presentContext(context: TenantContext) {
  return { org_id: context.organizationId, workspace_id: context.workspaceId };
}

export function presentSession(session: Session) {
  return { ...presentSwitchedContext(session), refresh_token: session.refreshToken };
}

export function presentSignIn(signedIn: SignedIn) {
  return { ...presentSession(signedIn), device_token: signedIn.deviceToken };
}

export function presentMe(user: User, claims: AccessTokenClaims) {
  return {
    user: presentUser(user),
    context: presentContext(claims),
  };
}

/** RFC 7662: an inactive token says nothing else. */
export function presentIntrospection(claims: AccessTokenClaims | null) {
  if (!claims) return { active: false as const };
  return {
    active: true as const,
    token_type: 'access_token' as const,
    sub: claims.userId,
    sid: claims.sessionId,
    exp: Math.floor(claims.expiresAt.getTime() / 1000),
    org_id: claims.organizationId,
    workspace_id: claims.workspaceId,
    email_verified: claims.emailVerified,
  };
}
