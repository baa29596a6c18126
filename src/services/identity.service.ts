import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, type AuditEntry } from '../audit/audit-log.ts';
import type { SessionRevocations } from '../authz/session-revocations.ts';
import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import { Conflict, Unauthenticated, ValidationFailed } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import type { AccountMail } from './account-mail.ts';
import type { SignInClient } from './known-clients.ts';
import type { OrganizationService } from './organization.service.ts';
import type { HashingTicket, PasswordHasher } from './password-hasher.ts';
import { passwordProblem } from './password-policy.ts';
import type { Session, SessionService, SwitchedContext, TenantContext } from './session.service.ts';
import type { MfaChallenge, SecondFactors } from './second-factors.ts';
import type { LoginAttempt, SignInGate } from './sign-in-gate.ts';

export type { SignInClient } from './known-clients.ts';
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

/** A session opened by a sign-in, with the device token that makes the client known to the account next time. */
export interface SignedIn extends Session {
  deviceToken: string;
}

/** A login of an account with a second factor: no session yet, a challenge its code completes (POST /auth/mfa/verify). */
export interface ChallengedLogin extends MfaChallenge {
  deviceToken: string;
}

/** Users, their credentials, and the sessions (access + refresh tokens) they hold. */
export class IdentityService {
  private readonly orm: Orm;
  private readonly passwords: PasswordHasher;
  private readonly gate: SignInGate;
  private readonly sessions: SessionService;
  private readonly tokens: AccessTokens;
  private readonly organizations: OrganizationService;
  private readonly revocations: SessionRevocations;
  private readonly accountMail: AccountMail;
  private readonly logger: Logger;
  private readonly secondFactors: SecondFactors;

  constructor(
    orm: Orm,
    passwords: PasswordHasher,
    gate: SignInGate,
    sessions: SessionService,
    tokens: AccessTokens,
    organizations: OrganizationService,
    revocations: SessionRevocations,
    accountMail: AccountMail,
    logger: Logger,
    secondFactors: SecondFactors,
  ) {
    this.secondFactors = secondFactors;
    this.orm = orm;
    this.passwords = passwords;
    this.gate = gate;
    this.sessions = sessions;
    this.tokens = tokens;
    this.organizations = organizations;
    this.revocations = revocations;
    this.accountMail = accountMail;
    this.logger = logger;
  }

  /**
   * A new user, with their own organization and its default workspace, signed in to it. From a
   * client (HTTP), signups are throttled per address and the client becomes known to the account;
   * without one (tools, seeding), neither.
   */
  async signup(input: Signup): Promise<Session>;
  async signup(input: Signup, client: SignInClient): Promise<SignedIn>;
  async signup(input: Signup, client?: SignInClient): Promise<Session | SignedIn> {
    if (!client) return this.createAccount(input);
    const release = await this.gate.admitSignup(client);
    let session: Session;
    try {
      session = await this.createAccount(input);
    } finally {
      release();
    }
    return { ...session, deviceToken: await this.gate.remember(session.user, client) };
  }

  /**
   * One generic failure for a wrong email or a wrong password, after the same hashing work. The
   * gate (src/services/sign-in-gate.ts) decides before the attempt takes a place in the hashing
   * queue, and holds no pooled connection while scrypt runs; then the attempt is settled: kept as
   * a failure, or taken back. A hash made at an older cost is replaced at the right password, so
   * every account's failures take as long as an unknown email's. An account with a second factor
   * gets a challenge instead of a session.
   */
  async login(credentials: Credentials, client: SignInClient): Promise<SignedIn | ChallengedLogin> {
    const checked = await this.confirmPassword(credentials, client);
    const challenge = await this.secondFactors.challengeFor(checked.user);
    if (challenge) return { ...challenge, deviceToken: checked.deviceToken };
    return { ...(await this.sessions.signIn(checked.user)), deviceToken: checked.deviceToken };
  }

  /**
   * The account whose password this is, through the same gate and throttle as a login, without
   * starting a session (a password change, a verification link); 401 as a login answers.
   */
  async confirmPassword(credentials: Credentials, client: SignInClient): Promise<{ user: User; deviceToken: string }> {
    const attempt = await this.gate.admitLogin(credentials.email, client);
    try {
      return await this.checkPassword(attempt, credentials.password);
    } finally {
      attempt.release();
    }
  }

  /**
   * Whether `password` is the signed-in user's own, checked as a login is: through the same gate,
   * throttle and hashing lanes, a wrong one counted as a failed login. For confirmations.
   */
  async passwordMatches(user: User, password: string, client: SignInClient): Promise<boolean> {
    try {
      await this.confirmPassword({ email: user.email, password }, client);
      return true;
    } catch (error) {
      if (error instanceof Unauthenticated) return false;
      throw error;
    }
  }

  /** The attempt's account if the password is its own (the attempt settled either way); 401 if not. */
  private async checkPassword(attempt: LoginAttempt, password: string): Promise<{ user: User; deviceToken: string }> {
    const found = attempt.user;
    let verified: boolean;
    try {
      verified = (await attempt.ticket.verify(password, found?.passwordHash)) && found !== null;
    } catch (error) {
      // Not checked: not a failure either.
      await attempt.withdraw();
      throw error;
    }
    if (!verified || !found) {
      await attempt.failed();
      if (found) this.recordFailedSignIn(found.id);
      throw new Unauthenticated('Wrong email or password');
    }
    const deviceToken = await attempt.succeeded(found);
    await this.rehashIfOutdated(found, password, attempt.ticket);
    return { user: found, deviceToken };
  }

  /**
   * The account, its organization, a session, and a verification mail to the address. A taken
   * username or email is refused before any hashing, after about as long as a hash takes, so the
   * time of the answer tells no more than its status; the unique indexes still decide a race
   * between two signups. A taken email is also told by mail, with a link to choose a new password:
   * whoever registered it first, its owner is never kept out (docs/tenant-api.md, "Email verification and passwords").
   */
  private async createAccount(input: Signup): Promise<Session> {
    const problem = passwordProblem(input.password, input);
    if (problem) throw new ValidationFailed([{ field: 'body.password', message: problem }]);
    const claimed = await this.claimedBy(this.orm.em, input.username, input.email);
    if (claimed) {
      await Promise.all([this.passwords.waitAsLongAsAHash(), claimed.holder && this.mailHolder(claimed.holder)]);
      throw claimed.conflict;
    }
    const passwordHash = await this.passwords.hash(input.password);
    const { user, created } = await this.orm.em.transactional(async (em) => {
      const raced = await this.claimedBy(em, input.username, input.email);
      if (raced) throw raced.conflict;
      const user = new User(input.username, input.email, passwordHash);
      em.persist(user);
      const created = await this.organizations.createWithin(em, user, { name: `${input.username}'s organization` });
      await this.accountMail.send(em, user, 'verification');
      return { user, created };
    });
    this.accountMail.kick();
    await this.organizations.deliverCreated(created);
    const context = { organizationId: created.organization.id, workspaceId: created.defaultWorkspace.id };
    return this.sessions.start(user, context, created.organization.zedToken);
  }

  /**
   * In the place the login already holds in the hashing queue; kept only if the stored hash is still
   * the one verified. A rehash that fails is logged and tried again at the next login: the sign-in stands.
   */
  private async rehashIfOutdated(user: User, password: string, ticket: HashingTicket): Promise<void> {
    if (!this.passwords.needsRehash(user.passwordHash)) return;
    try {
      const rehashed = await ticket.hash(password);
      await this.orm.em.nativeUpdate(User, { id: user.id, passwordHash: user.passwordHash }, { passwordHash: rehashed });
    } catch (error) {
      this.logger.error({ err: error, userId: user.id }, 'could not rehash a password at the current cost');
    }
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
    // Whether the address is proven now, not when the token was issued.
    return user ? { ...claims, emailVerified: user.emailVerifiedAt !== null } : null;
  }

  /** A new access token for another organization or workspace the caller can view (SessionService.switchContext). */
  async switchContext(claims: AccessTokenClaims, target: TenantContext & { organizationId: string }): Promise<SwitchedContext> {
    return this.sessions.switchContext(claims, await this.currentUser(claims), target);
  }

  /** The user behind a verified access token; 401 if they no longer exist. */
  async currentUser(claims: AccessTokenClaims): Promise<User> {
    const user = await this.orm.em.findOne(User, { id: claims.userId });
    if (!user) throw new Unauthenticated('The user of this token no longer exists');
    return user;
  }

  /** The conflict a signup with this username or email would be, if either is taken, and the account holding the email. */
  private async claimedBy(em: EntityManager, username: string, email: string): Promise<{ conflict: Conflict; holder?: User } | undefined> {
    const taken = await em.findOne(User, { $or: [{ username }, { email: email.toLowerCase() }] });
    if (!taken) return undefined;
    if (taken.email === email.toLowerCase()) return { conflict: new Conflict('That email is already registered; a message was sent to it'), holder: taken };
    return { conflict: new Conflict('That username is taken') };
  }

  /** Tells the address's owner, with a link to choose a new password (at most once per cooldown); a failure is only logged. */
  private async mailHolder(holder: User): Promise<void> {
    try {
      const sent = await this.orm.em.fork().transactional(async (em) => this.accountMail.send(em, await em.findOneOrFail(User, { id: holder.id }), 'already_registered'));
      if (sent) this.accountMail.kick();
    } catch (error) {
      this.logger.error({ err: error, userId: holder.id }, 'could not mail the owner of an address a signup tried to take');
    }
  }
}

/** Whoever tried is unknown (the client address says where from): the service records it. */
function signInFailed(userId: string): AuditEntry {
  return { actor: { type: 'system', id: 'unauthenticated' }, action: 'session.sign_in_failed', target: { type: 'user', id: userId } };
}
