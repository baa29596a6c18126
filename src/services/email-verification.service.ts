import { appendSubjectAuditEvent, userActor } from '../audit/audit-log.ts';
import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, TooManyRequests } from '../errors.ts';
import type { AccountMail } from './account-mail.ts';
import type { IdentityService, SignInClient } from './identity.service.ts';

/**
 * Proving an address. The mailed link proves the address; the account's password proves the
 * account: both are needed, so the owner of an address that someone else registered cannot verify
 * that stranger's account by clicking the mail (they take it over with a new password instead,
 * PasswordService.reset). Until verified, no invitation is matched to the account by its email.
 */
export class EmailVerificationService {
  private readonly orm: Orm;
  private readonly identity: IdentityService;
  private readonly mail: AccountMail;

  constructor(orm: Orm, identity: IdentityService, mail: AccountMail) {
    this.orm = orm;
    this.identity = identity;
    this.mail = mail;
  }

  /** A new verification mail for the caller's own address (409 if already verified, 429 within the cooldown or past the throttle). */
  async resend(userId: string, client: SignInClient): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const user = await em.findOneOrFail(User, { id: userId });
      if (user.emailVerifiedAt) throw new Conflict('Your email address is already verified');
      await this.mail.countAsk(em, user.email, client);
      const wait = await this.mail.cooldownLeft(em, user, 'verify_email');
      if (wait > 0) throw new TooManyRequests('A verification mail was sent moments ago; wait before asking again', wait);
      await this.mail.send(em, user, 'verification');
    });
    this.mail.kick();
  }

  /** Whose address an open verification link proves (404 as for any bad token), for the page that asks for the password. */
  async linkFor(token: string): Promise<{ username: string; email: string; verified: boolean }> {
    const { user } = await this.mail.open(this.orm.em.fork(), token, ['verify_email']);
    return { username: user.username, email: user.email, verified: user.emailVerifiedAt !== null };
  }

  /**
   * The link's token and the account's password: the address is verified. An unknown, used or
   * expired token answers 404 before any password is checked; a wrong password answers 401 as a
   * login does (and is throttled as one) and leaves the token usable.
   */
  async verify(token: string, password: string, client: SignInClient): Promise<User> {
    const em = this.orm.em.fork();
    await em.transactional((tx) => this.mail.countPresented(tx, client));
    const presented = await this.mail.open(em, token, ['verify_email']);
    await this.identity.confirmPassword({ email: presented.user.email, password }, client);
    return em.fork().transactional(async (tx) => {
      const stored = await this.mail.open(tx, token, ['verify_email'], true);
      stored.usedAt = new Date();
      stored.user.emailVerifiedAt ??= new Date();
      await tx.flush();
      await appendSubjectAuditEvent(tx, {
        actor: userActor(stored.user.id),
        action: 'user.email_verified',
        target: { type: 'user', id: stored.user.id },
      });
      return stored.user;
    });
  }
}
