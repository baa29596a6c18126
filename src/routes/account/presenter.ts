import type { SignInSession } from '../../db/entities/index.ts';

export function presentSignInSession(session: SignInSession, currentSessionId: string) {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    client_address: session.clientAddress,
    user_agent: session.userAgent,
    current: session.id === currentSessionId,
  };
}
