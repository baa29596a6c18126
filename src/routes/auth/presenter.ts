import type { User } from '../../db/entities/index.js';
import type { AccessTokenClaims } from '../../services/access-tokens.js';
import type { Session } from '../../services/identity.service.js';

export function presentUser(user: User) {
  return { id: user.id, username: user.username, email: user.email, created_at: user.createdAt.toISOString() };
}

export function presentSession(session: Session) {
  return {
    access_token: session.accessToken,
    token_type: 'bearer' as const,
    expires_in: session.expiresIn,
    refresh_token: session.refreshToken,
    user: presentUser(session.user),
  };
}

export function presentMe(user: User, claims: AccessTokenClaims) {
  return {
    user: presentUser(user),
    context: { org_id: claims.organizationId, workspace_id: claims.workspaceId },
  };
}
