import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, userActor, type AuditEntry } from '../audit/audit-log.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { PermissionName } from '../authz/permissions.ts';
import type { SessionRevocations } from '../authz/session-revocations.ts';
import type { ZedToken } from '../authz/types.ts';
import { RefreshToken, SignInSession, type SessionEnd, type User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Unauthenticated, Unavailable } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';
import type { SessionContexts, TenantContext } from './session-context.ts';

export type { TenantContext } from './session-context.ts';

export interface SwitchedContext {
  user: User;
  /** The organization and workspace the access token is for (its org_id and workspace_id claims). */
  context: TenantContext;
  accessToken: string;
  expiresIn: number;
}

export interface Session extends SwitchedContext {
  refreshToken: string;
}

/**
 * Sign-in sessions: the refresh-token family of one sign-in and the access tokens (`sid`) it issues.
 *
 * Every path that issues a token for an existing session (refresh, switch-context) and every path
 * that ends one (logout, refresh-token reuse) first locks the session's row (`FOR UPDATE`) and
 * reads whether it has ended. So a refresh racing a logout either commits first (and the logout,
 * waiting on the lock, then ends the session its new tokens belong to) or waits and answers 401
 * having issued nothing, on any instance. An ended session also lists its `sid` in
 * SessionRevocations, which refuses its access tokens until the last one issued has expired.
 */
export class SessionService {
  private readonly orm: Orm;
  private readonly tokens: AccessTokens;
  private readonly authorizer: Authorizer;
  private readonly contexts: SessionContexts;
  private readonly revocations: SessionRevocations;
  private readonly refreshTtlSeconds: number;

  constructor(
    orm: Orm,
    tokens: AccessTokens,
    authorizer: Authorizer,
    contexts: SessionContexts,
    revocations: SessionRevocations,
    refreshTtlSeconds: number,
  ) {
    this.orm = orm;
    this.tokens = tokens;
    this.authorizer = authorizer;
    this.contexts = contexts;
    this.revocations = revocations;
    this.refreshTtlSeconds = refreshTtlSeconds;
  }

  /** A new session for a user who just proved who they are, in their first organization and workspace. */
  async signIn(user: User): Promise<Session> {
    const { context, freshness } = await this.contexts.atSignIn(this.orm.em, user);
    return this.start(user, context, freshness);
  }

  /** A new session in the given context; its sign-in is recorded in the user's audit chain with it. */
  async start(user: User, context: TenantContext, freshness: ZedToken | null): Promise<Session> {
    const permissions = await this.permissionsHint(user, context, freshness);
    const session = new SignInSession(user);
    const refreshToken = await this.orm.em.transactional(async (em) => {
      em.persist(session);
      const token = this.rotateInto(em, session, context);
      await appendSubjectAuditEvent(em, sessionEvent(user.id, 'session.signed_in', { session_id: [null, session.id] }));
      return token;
    });
    const accessToken = await this.tokens.issue(user.id, { ...context, sessionId: session.id, permissions, emailVerified: user.emailVerifiedAt !== null });
    return { user, context, accessToken, expiresIn: this.tokens.lifetimeSeconds, refreshToken };
  }

  /**
   * Rotates a refresh token. A token presented twice has leaked: its whole session ends. The new
   * tokens keep the session's context while the user can still view it.
   */
  async refresh(presented: string): Promise<Session> {
    const outcome = await this.orm.em.transactional(async (em) => {
      const stored = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(presented) }, { populate: ['user'] });
      if (!stored || stored.expiresAt <= new Date()) return { rejected: 'invalid' } as const;
      const session = await this.lockLive(em, stored.session.id);
      if (!session) return { rejected: 'invalid' } as const;
      // Under the session's lock, so of two uses of one token exactly one finds it unused.
      const claimed = await em.nativeUpdate(RefreshToken, { id: stored.id, usedAt: null }, { usedAt: new Date() });
      if (claimed === 0) {
        await this.end(em, session, 'token_reused');
        return { rejected: 'reused', sessionId: session.id } as const;
      }
      const kept = await this.contexts.kept(em, stored.user, stored);
      const permissions = await this.permissionsHint(stored.user, kept.context, kept.freshness);
      const refreshToken = this.rotateInto(em, session, kept.context);
      // Issued before the commit, while the lock still keeps the session from ending.
      const accessToken = await this.tokens.issue(stored.user.id, {
        ...kept.context,
        sessionId: session.id,
        permissions,
        emailVerified: stored.user.emailVerifiedAt !== null,
      });
      const issued: Session = { user: stored.user, context: kept.context, accessToken, expiresIn: this.tokens.lifetimeSeconds, refreshToken };
      return { issued };
    });
    // Thrown after the commit, so the session's end is kept.
    if ('rejected' in outcome) {
      if (outcome.rejected === 'reused') this.revocations.remember(outcome.sessionId);
      throw new Unauthenticated(
        outcome.rejected === 'reused'
          ? 'The refresh token was already used; its session has been revoked'
          : 'The refresh token is invalid or expired',
      );
    }
    return outcome.issued;
  }

  /**
   * Ends the presented token's session: its refresh tokens and every access token carrying its
   * `sid`, on every instance. Unknown tokens are ignored: logout reveals nothing.
   */
  async logout(presented: string): Promise<void> {
    const ended = await this.orm.em.transactional(async (em) => {
      const stored = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(presented) }, { populate: ['user'] });
      if (!stored) return undefined;
      // A session already ended (logged out, or revoked for reuse) is not signed out of twice.
      const session = await this.lockLive(em, stored.session.id);
      if (!session) return undefined;
      await this.end(em, session, 'signed_out');
      await appendSubjectAuditEvent(em, sessionEvent(stored.user.id, 'session.signed_out', { session_id: [session.id, null] }));
      return session.id;
    });
    if (ended) this.revocations.remember(ended);
  }

  /**
   * An access token for the caller's session in another organization (and optionally one of its
   * workspaces; SessionContexts.switchedTo decides which, and that the user may view it). The
   * session's refresh token moves there too, so refreshing keeps it. 401 if the session has ended,
   * even while the presented access token is still in flight past the revocation.
   */
  async switchContext(claims: AccessTokenClaims, user: User, target: { organizationId: string; workspaceId: string | null }): Promise<SwitchedContext> {
    const { context, freshness } = await this.contexts.switchedTo(this.orm.em, user, target);
    const permissions = await this.permissionsIn(user, context, freshness);
    const accessToken = await this.orm.em.transactional(async (em) => {
      const session = await this.lockLive(em, claims.sessionId);
      if (!session || session.user.id !== user.id) throw new Unauthenticated('The session of this access token has ended');
      await em.nativeUpdate(
        RefreshToken,
        { session, usedAt: null },
        { organizationId: context.organizationId, workspaceId: context.workspaceId },
      );
      return this.tokens.issue(user.id, { ...context, sessionId: session.id, permissions, emailVerified: user.emailVerifiedAt !== null });
    });
    return { user, context, accessToken, expiresIn: this.tokens.lifetimeSeconds };
  }

  /**
   * Ends every live session of the user except `keep`, in the caller's transaction, each row locked
   * as logout locks it (so no refresh can issue a token past the commit). Call `remember` with the
   * answer after the commit; every other instance hears of it from the revocation channel.
   */
  async endAllOf(em: EntityManager, userId: string, reason: SessionEnd, keep?: string): Promise<string[]> {
    const sessions = await em.find(
      SignInSession,
      { user: userId, endedAt: null, ...(keep ? { id: { $ne: keep } } : {}) },
      { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
    );
    for (const session of sessions) await this.end(em, session, reason);
    return sessions.map((session) => session.id);
  }

  /** This instance refuses the ended sessions' access tokens at once (their NOTIFY comes back later). */
  remember(sessionIds: string[]): void {
    for (const sessionId of sessionIds) this.revocations.remember(sessionId);
  }

  /** The permissions the user holds in a context, by registry name (the token's `permissions` hint). */
  async permissionsIn(user: User, context: TenantContext, freshness: ZedToken | null): Promise<PermissionName[]> {
    if (!context.organizationId) return [];
    return this.authorizer.contextPermissions(
      user.id,
      { organizationId: context.organizationId, workspaceId: context.workspaceId },
      freshness,
    );
  }

  /** The session, locked until the transaction ends; null if it is missing or has ended. */
  private async lockLive(em: EntityManager, sessionId: string): Promise<SignInSession | null> {
    const session = await em.findOne(SignInSession, { id: sessionId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    return session && !session.endedAt ? session : null;
  }

  /** Ends a locked session and lists its `sid` as revoked, in the caller's transaction. */
  private async end(em: EntityManager, session: SignInSession, reason: SessionEnd): Promise<void> {
    session.endedAt = new Date();
    session.endedBy = reason;
    await em.flush();
    await this.revocations.revoke(em, session.id);
  }

  private rotateInto(em: EntityManager, session: SignInSession, context: TenantContext): string {
    const refreshToken = newSecretToken();
    em.persist(
      new RefreshToken({
        tokenHash: hashSecretToken(refreshToken),
        session,
        user: session.user,
        organizationId: context.organizationId,
        workspaceId: context.workspaceId,
        expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000),
      }),
    );
    return refreshToken;
  }

  /**
   * The claim is a hint, never trusted for decisions: without SpiceDB it is empty (nothing is
   * granted by it), rather than failing a sign-in or a refresh.
   */
  private async permissionsHint(user: User, context: TenantContext, freshness: ZedToken | null): Promise<PermissionName[]> {
    return this.permissionsIn(user, context, freshness).catch((error: unknown) => {
      if (error instanceof Unavailable) return [];
      throw error;
    });
  }
}

/** A session event, in the user's own chain (no organization). No credential goes into it, only the session's id. */
function sessionEvent(userId: string, action: 'session.signed_in' | 'session.signed_out', changes: AuditEntry['changes']): AuditEntry {
  return { actor: userActor(userId), action, target: { type: 'user', id: userId }, changes };
}
