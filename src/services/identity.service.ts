import { randomUUID } from 'node:crypto';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, userActor, type AuditEntry } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { PermissionName } from '../authz/permissions.ts';
import type { SessionRevocations } from '../authz/session-revocations.ts';
import type { ZedToken } from '../authz/types.ts';
import { RefreshToken, User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import { Conflict, Unauthenticated, Unavailable } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { OrganizationService } from './organization.service.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { SessionContexts, type TenantContext } from './session-context.ts';

export interface Signup {
  username: string;
  email: string;
  password: string;
}

export interface Credentials {
  email: string;
  password: string;
}

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

/** Users, their credentials, and the sessions (access + refresh tokens) they hold. */
export class IdentityService {
  private readonly orm: Orm;
  private readonly passwords: PasswordHasher;
  private readonly throttle: LoginThrottle;
  private readonly tokens: AccessTokens;
  private readonly authorizer: Authorizer;
  private readonly contexts: SessionContexts;
  private readonly organizations: OrganizationService;
  private readonly revocations: SessionRevocations;
  private readonly refreshTtlSeconds: number;
  private readonly logger: Logger;

  constructor(
    orm: Orm,
    passwords: PasswordHasher,
    throttle: LoginThrottle,
    tokens: AccessTokens,
    authorizer: Authorizer,
    access: TenantAccess,
    organizations: OrganizationService,
    revocations: SessionRevocations,
    refreshTtlSeconds: number,
    logger: Logger,
  ) {
    this.orm = orm;
    this.passwords = passwords;
    this.throttle = throttle;
    this.tokens = tokens;
    this.authorizer = authorizer;
    this.contexts = new SessionContexts(authorizer, access, organizations);
    this.organizations = organizations;
    this.revocations = revocations;
    this.refreshTtlSeconds = refreshTtlSeconds;
    this.logger = logger;
  }

  /** A new user, with their own organization and its default workspace, signed in to it. */
  async signup(input: Signup): Promise<Session> {
    const passwordHash = await this.passwords.hash(input.password);
    const { user, created } = await this.orm.em.transactional(async (em) => {
      await this.assertUnclaimed(em, input.username, input.email);
      const user = new User(input.username, input.email, passwordHash);
      em.persist(user);
      const created = await this.organizations.createWithin(em, user, { name: `${input.username}'s organization` });
      return { user, created };
    });
    await this.organizations.deliverCreated(created);
    const context = { organizationId: created.organization.id, workspaceId: created.defaultWorkspace.id };
    return this.startSession(this.orm.em, user, context, randomUUID(), created.organization.zedToken, { signedIn: true });
  }

  /**
   * One generic failure for a wrong email or a wrong password, after the same hashing work.
   * Three steps, so no pooled connection is held while scrypt runs: (1) in a short transaction,
   * serialized per account and address, check the throttle and record the attempt as a failure;
   * (2) hash, in the hasher's bounded queue (503 with Retry-After when full, before any database
   * work); (3) settle the attempt: kept as a failure, or taken back.
   */
  async login(credentials: Credentials, clientAddress: string): Promise<Session> {
    const ticket = this.passwords.admit();
    let found: User | null;
    let verified: boolean;
    try {
      const { user, attempt } = await this.throttle.inTurn(credentials.email, clientAddress, () =>
        this.orm.em.transactional(async (em) => {
          await this.throttle.serialize(em, credentials.email, clientAddress);
          await this.throttle.assertAllowed(em, credentials.email, clientAddress);
          const attempt = await this.throttle.recordAttempt(em, credentials.email, clientAddress);
          const user = await em.findOne(User, { email: credentials.email.toLowerCase() }, { populate: ['passwordHash'] });
          return { user, attempt };
        }),
      );
      found = user;
      try {
        verified = (await ticket.verify(credentials.password, found?.passwordHash)) && found !== null;
      } catch (error) {
        // Not checked: not a failure either.
        await this.throttle.withdraw(this.orm.em, attempt);
        throw error;
      }
      if (!verified) {
        await this.throttle.failed(this.orm.em, attempt);
        if (found) this.recordFailedSignIn(found.id);
      } else {
        await this.throttle.succeeded(this.orm.em, credentials.email, clientAddress, attempt);
      }
    } finally {
      ticket.release();
    }
    if (!verified || !found) throw new Unauthenticated('Wrong email or password');
    const { context, freshness } = await this.contexts.atSignIn(this.orm.em, found);
    return this.startSession(this.orm.em, found, context, randomUUID(), freshness, { signedIn: true });
  }

  /**
   * In the user's chain, without awaiting it: only an account that exists has a chain to record it
   * in, so a 401 that waited for the write would take longer for real accounts and tell which
   * emails have one. A write that fails is logged; the login throttle has counted the attempt anyway.
   */
  private recordFailedSignIn(userId: string): void {
    this.orm.em
      .fork()
      .transactional((em) => appendSubjectAuditEvent(em, signInFailed(userId)))
      .catch((error: unknown) => this.logger.error({ err: error, userId }, 'could not record a failed sign-in in the audit log'));
  }

  /**
   * Rotates a refresh token. A token presented twice has leaked: its whole family is revoked.
   * The new tokens keep the family's context while the user can still view it.
   */
  async refresh(presented: string): Promise<Session> {
    const outcome = await this.orm.em.transactional(async (em) => {
      const stored = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(presented) }, { populate: ['user'] });
      if (!stored || stored.revokedAt || stored.expiresAt <= new Date()) return { rejected: 'invalid' } as const;
      // Conditional, so two concurrent uses of one token cannot both succeed.
      const claimed = await em.nativeUpdate(RefreshToken, { id: stored.id, usedAt: null }, { usedAt: new Date() });
      if (claimed === 0) {
        await this.revokeFamily(em, stored.familyId);
        return { rejected: 'reused', familyId: stored.familyId } as const;
      }
      const kept = await this.contexts.kept(em, stored.user, stored);
      return { session: await this.startSession(em, stored.user, kept.context, stored.familyId, kept.freshness) };
    });
    // Thrown after the commit, so the family's revocation is kept.
    if ('rejected' in outcome) {
      if (outcome.rejected === 'reused') this.revocations.remember(outcome.familyId);
      throw new Unauthenticated(
        outcome.rejected === 'reused'
          ? 'The refresh token was already used; its session has been revoked'
          : 'The refresh token is invalid or expired',
      );
    }
    return outcome.session;
  }

  /**
   * Ends the presented token's session: its refresh-token family and every access token carrying
   * its `sid`, on every instance. Unknown tokens are ignored: logout reveals nothing.
   */
  async logout(presented: string): Promise<void> {
    const familyId = await this.orm.em.transactional(async (em) => {
      const stored = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(presented) }, { populate: ['user'] });
      if (!stored) return undefined;
      // A session already ended (logged out, or revoked for reuse) is not signed out of twice.
      if ((await this.revokeFamily(em, stored.familyId)) > 0) {
        await appendSubjectAuditEvent(em, sessionEvent(stored.user.id, 'session.signed_out', { session_id: [stored.familyId, null] }));
      }
      return stored.familyId;
    });
    if (familyId) this.revocations.remember(familyId);
  }

  /**
   * RFC 7662: the claims of a live access token whose session has not ended and whose user still
   * exists; null for anything else (expired, revoked, foreign, garbage).
   */
  async introspect(token: string): Promise<AccessTokenClaims | null> {
    const claims = await this.tokens.verify(token).catch(() => null);
    if (!claims || (await this.revocations.isRevoked(claims.sessionId))) return null;
    const user = await this.orm.em.findOne(User, { id: claims.userId });
    return user ? claims : null;
  }

  /**
   * A new access token for another organization (and one of its workspaces: the one named, or
   * its default workspace when the caller can view it), which the caller must be able to view.
   * The session's refresh token moves to that context too, so refreshing keeps it.
   */
  async switchContext(claims: AccessTokenClaims, target: TenantContext & { organizationId: string }): Promise<SwitchedContext> {
    const em = this.orm.em;
    const user = await this.currentUser(claims);
    const { context, freshness } = await this.contexts.switchedTo(em, user, target);
    const permissions = await this.permissionsIn(user, context, freshness);
    await em.nativeUpdate(
      RefreshToken,
      { familyId: claims.sessionId, user, usedAt: null, revokedAt: null },
      { organizationId: context.organizationId, workspaceId: context.workspaceId },
    );
    const accessToken = await this.tokens.issue(user.id, { ...context, sessionId: claims.sessionId, permissions });
    return { user, context, accessToken, expiresIn: this.tokens.lifetimeSeconds };
  }

  /** The user behind a verified access token; 401 if they no longer exist. */
  async currentUser(claims: AccessTokenClaims): Promise<User> {
    const user = await this.orm.em.findOne(User, { id: claims.userId });
    if (!user) throw new Unauthenticated('The user of this token no longer exists');
    return user;
  }

  private async assertUnclaimed(em: EntityManager, username: string, email: string): Promise<void> {
    const taken = await em.findOne(User, { $or: [{ username }, { email: email.toLowerCase() }] });
    if (!taken) return;
    throw new Conflict(taken.username === username ? 'That username is taken' : 'That email is already registered');
  }

  private async startSession(
    em: EntityManager,
    user: User,
    context: TenantContext,
    familyId: string,
    freshness: ZedToken | null,
    options: { signedIn?: boolean } = {},
  ): Promise<Session> {
    const permissions = await this.permissionsIn(user, context, freshness).catch((error: unknown) => {
      // The claim is a hint, never trusted for decisions: without SpiceDB it is empty (nothing
      // is granted by it), rather than failing a sign-in whose rows are already committed.
      if (error instanceof Unavailable) return [];
      throw error;
    });
    const refreshToken = newSecretToken();
    // The session and its sign-in event commit together (a refresh, which continues a session, records none).
    await em.transactional(async (tx) => {
      tx.persist(
        new RefreshToken({
          tokenHash: hashSecretToken(refreshToken),
          familyId,
          user,
          organizationId: context.organizationId,
          workspaceId: context.workspaceId,
          expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000),
        }),
      );
      if (options.signedIn) await appendSubjectAuditEvent(tx, sessionEvent(user.id, 'session.signed_in', { session_id: [null, familyId] }));
    });
    const accessToken = await this.tokens.issue(user.id, { ...context, sessionId: familyId, permissions });
    return { user, context, accessToken, expiresIn: this.tokens.lifetimeSeconds, refreshToken };
  }

  private async permissionsIn(user: User, context: TenantContext, freshness: ZedToken | null): Promise<PermissionName[]> {
    if (!context.organizationId) return [];
    return this.authorizer.contextPermissions(
      user.id,
      { organizationId: context.organizationId, workspaceId: context.workspaceId },
      freshness,
    );
  }

  /** Its refresh tokens, and the access tokens of its session (`sid`), in one transaction; how many tokens were still live. */
  private async revokeFamily(em: EntityManager, familyId: string): Promise<number> {
    const revoked = await em.nativeUpdate(RefreshToken, { familyId, revokedAt: null }, { revokedAt: new Date() });
    await this.revocations.revoke(em, familyId);
    return revoked;
  }
}

/** A session event, in the user's own chain (no organization). No credential goes into it, only the session's id. */
function sessionEvent(userId: string, action: 'session.signed_in' | 'session.signed_out', changes: AuditEntry['changes']): AuditEntry {
  return { actor: userActor(userId), action, target: { type: 'user', id: userId }, changes };
}

/** Whoever tried is unknown (the client address says where from): the service records it. */
function signInFailed(userId: string): AuditEntry {
  return { actor: { type: 'system', id: 'unauthenticated' }, action: 'session.sign_in_failed', target: { type: 'user', id: userId } };
}
