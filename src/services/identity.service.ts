import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, type AuditEntry } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { SessionRevocations } from '../authz/session-revocations.ts';
import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import { Conflict, Unauthenticated, ValidationFailed } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { OrganizationService } from './organization.service.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { passwordProblem } from './password-policy.ts';
import type { Session, SessionService, SwitchedContext, TenantContext } from './session.service.ts';

export type { Session, SwitchedContext, TenantContext } from './session.service.ts';

export interface Signup {
  username: string;
  email: string;
  password: string;
}

export interface Credentials {
  email: string;
  password: string;
}

/** Users, their credentials, and the sessions (access + refresh tokens) they hold. */
export class IdentityService {
  private readonly orm: Orm;
  private readonly passwords: PasswordHasher;
  private readonly throttle: LoginThrottle;
  private readonly sessions: SessionService;
  private readonly tokens: AccessTokens;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;
  private readonly revocations: SessionRevocations;
  private readonly logger: Logger;

  constructor(
    orm: Orm,
    passwords: PasswordHasher,
    throttle: LoginThrottle,
    sessions: SessionService,
    tokens: AccessTokens,
    access: TenantAccess,
    organizations: OrganizationService,
    revocations: SessionRevocations,
    logger: Logger,
  ) {
    this.orm = orm;
    this.passwords = passwords;
    this.throttle = throttle;
    this.sessions = sessions;
    this.tokens = tokens;
    this.access = access;
    this.organizations = organizations;
    this.revocations = revocations;
    this.logger = logger;
  }

  /** A new user, with their own organization and its default workspace, signed in to it. */
  async signup(input: Signup): Promise<Session> {
    const problem = passwordProblem(input.password, input);
    if (problem) throw new ValidationFailed([{ field: 'body.password', message: problem }]);
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
    return this.sessions.start(user, context, created.organization.zedToken);
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
    return this.sessions.signIn(found);
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

    /** Rotates a refresh token (SessionService.refresh). */
  refresh(presented: string): Promise<Session> {
    return this.sessions.refresh(presented);
  }

  /** Ends the presented token's session (SessionService.logout). */
  logout(presented: string): Promise<void> {
    return this.sessions.logout(presented);
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
   * A new access token for another organization (and optionally one of its workspaces), which the
   * caller must be able to view. The session's refresh token moves to that context too, so
   * refreshing keeps it.
   */
  async switchContext(claims: AccessTokenClaims, target: TenantContext & { organizationId: string }): Promise<SwitchedContext> {
    const em = this.orm.em;
    const user = await this.currentUser(claims);
    const organization = await this.access.organization(em, user.id, target.organizationId, 'org:view');
    if (target.workspaceId) {
      // Seen at its own organization's freshness; only a workspace the caller may see can be
      // reported as belonging elsewhere (a hidden or missing one is the same 403).
      const workspace = await this.access.workspace(em, user.id, target.workspaceId, 'workspace:view');
      if (workspace.organization.id !== organization.id) {
        throw new ValidationFailed([{ field: 'body.workspace_id', message: 'is not a workspace of that organization' }]);
      }
    }
    const context = { organizationId: organization.id, workspaceId: target.workspaceId };
    const permissions = await this.sessions.permissionsIn(user, context, organization.zedToken);
    return this.sessions.switchTo(claims, user, context, permissions);
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
}

/** Whoever tried is unknown (the client address says where from): the service records it. */
function signInFailed(userId: string): AuditEntry {
  return { actor: { type: 'system', id: 'unauthenticated' }, action: 'session.sign_in_failed', target: { type: 'user', id: userId } };
}
