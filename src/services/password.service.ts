import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, userActor } from '../audit/audit-log.ts';
import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { ValidationFailed } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessTokenClaims } from './access-tokens.ts';
import type { AccountMail } from './account-mail.ts';
import type { IdentityService, SignInClient } from './identity.service.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { passwordProblem } from './password-policy.ts';
import type { SessionService } from './session.service.ts';

/**
 * Forgotten passwords (a mailed single-use token) and changes by a signed-in user. A new password
 * ends sessions on every instance as logout does: all of them after a reset, all but the caller's
 * after a change.
 */
export class PasswordService {
  private readonly orm: Orm;
  private readonly identity: IdentityService;
  private readonly passwords: PasswordHasher;
  private readonly sessions: SessionService;
  private readonly mail: AccountMail;
  private readonly logger: Logger;

  constructor(orm: Orm, identity: IdentityService, passwords: PasswordHasher, sessions: SessionService, mail: AccountMail, logger: Logger) {
    this.orm = orm;
    this.identity = identity;
    this.passwords = passwords;
    this.sessions = sessions;
    this.mail = mail;
    this.logger = logger;
  }

  /**
   * Counts the ask (per typed address and per client address, 429 past either), then answers at
   * once, account or not: whether there is one is looked up after the answer, so neither the
   * answer nor its time tells. An account is mailed at most once per cooldown.
   */
  async forgot(email: string, client: SignInClient): Promise<void> {
    await this.orm.em.fork().transactional((em) => this.mail.countAsk(em, email, client));
    void this.mailReset(email.toLowerCase());
  }

  private async mailReset(email: string): Promise<void> {
    try {
      const sent = await this.orm.em.fork().transactional(async (em) => {
        const user = await em.findOne(User, { email });
        return user ? this.mail.send(em, user, 'reset') : false;
      });
      if (sent) this.mail.kick();
    } catch (error) {
      this.logger.error({ err: error }, 'could not write a password reset mail');
    }
  }

  /** The account an open reset link is for (404 as for any bad token), for the page that asks for the new password. */
  async linkFor(token: string): Promise<{ username: string; email: string }> {
    const { user } = await this.mail.open(this.orm.em.fork(), token, ['reset_password']);
    return { username: user.username, email: user.email };
  }

  /**
   * The mailed token (a reset link, or a verification link taken over by the address's owner) and
   * a new password: the password is replaced, the address is proven (the token went to it), every
   * session of the account ends and every other mailed token dies. A weak password answers 422
   * and leaves the token usable.
   */
  async reset(token: string, newPassword: string, client: SignInClient): Promise<void> {
    const em = this.orm.em.fork();
    await em.transactional((tx) => this.mail.countPresented(tx, client));
    const presented = await this.mail.open(em, token, ['reset_password', 'verify_email']);
    const passwordHash = await this.acceptable(presented.user, newPassword, 'body.password');
    const ended = await em.fork().transactional(async (tx) => {
      const stored = await this.mail.open(tx, token, ['reset_password', 'verify_email'], true);
      const user = stored.user;
      await this.mail.closeAllOf(tx, user);
      user.emailVerifiedAt ??= new Date();
      await this.replace(tx, user, passwordHash);
      const sessionIds = await this.sessions.endAllOf(tx, user.id, 'password_reset');
      await appendSubjectAuditEvent(tx, {
        actor: userActor(user.id),
        action: 'user.password_reset',
        target: { type: 'user', id: user.id },
        changes: { sessions_ended: [null, sessionIds.length] },
      });
      return sessionIds;
    });
    this.sessions.remember(ended);
  }

  /** The current password (checked as a login is, 401 if wrong) and a new one: every other session of the caller ends. */
  async change(claims: AccessTokenClaims, currentPassword: string, newPassword: string, client: SignInClient): Promise<void> {
    const user = await this.identity.currentUser(claims);
    await this.identity.confirmPassword({ email: user.email, password: currentPassword }, client);
    const passwordHash = await this.acceptable(user, newPassword, 'body.new_password');
    const ended = await this.orm.em.fork().transactional(async (tx) => {
      const current = await tx.findOneOrFail(User, { id: user.id });
      await this.replace(tx, current, passwordHash);
      // A reset link in someone's mailbox no longer undoes the change.
      await this.mail.closeAllOf(tx, current);
      const sessionIds = await this.sessions.endAllOf(tx, user.id, 'password_changed', claims.sessionId);
      await appendSubjectAuditEvent(tx, {
        actor: userActor(user.id),
        action: 'user.password_changed',
        target: { type: 'user', id: user.id },
        changes: { sessions_ended: [null, sessionIds.length] },
      });
      return sessionIds;
    });
    this.sessions.remember(ended);
  }

  /** The new password's hash, or 422 when the password policy refuses it. */
  private async acceptable(user: User, password: string, field: string): Promise<string> {
    const problem = passwordProblem(password, user);
    if (problem) throw new ValidationFailed([{ field, message: problem }]);
    return this.passwords.hash(password);
  }

  private async replace(em: EntityManager, user: User, passwordHash: string): Promise<void> {
    await em.nativeUpdate(User, { id: user.id }, { passwordHash });
  }
}
