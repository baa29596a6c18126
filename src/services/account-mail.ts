import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AccountMailLimits } from '../config.ts';
import { EmailToken, MailOutboxEntry, type EmailTokenPurpose, type User } from '../db/entities/index.ts';
import { NotFound } from '../errors.ts';
import { renderAlreadyRegisteredMessage, renderResetMessage, renderVerificationMessage } from '../mail/account-messages.ts';
import type { MailRelay } from '../mail/mail-relay.ts';
import type { SignInClient } from './known-clients.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

/** Which message carries a token, and which page its link opens. */
export type AccountMessage = 'verification' | 'reset' | 'already_registered';

const PURPOSE: Record<AccountMessage, EmailTokenPurpose> = {
  verification: 'verify_email',
  reset: 'reset_password',
  already_registered: 'reset_password',
};
const PAGE: Record<EmailTokenPurpose, string> = { verify_email: 'verify-email', reset_password: 'reset-password' };
const RENDER = { verification: renderVerificationMessage, reset: renderResetMessage, already_registered: renderAlreadyRegisteredMessage };

/** One answer for an unknown, used, superseded or expired link, so a token tells nothing. */
export const noSuchLink = () => new NotFound('This link is unknown, expired or already used');

/**
 * The single-use tokens mailed to a person's own address, and the mails that carry them, through
 * the mail outbox (written in the caller's transaction; `kick` after the commit). A new token of
 * a purpose supersedes the account's earlier ones; an account gets at most one mail of a purpose
 * per cooldown.
 */
export class AccountMail {
  private readonly limits: AccountMailLimits;
  private readonly linkBaseUrl: string;
  private readonly relay: MailRelay;
  private readonly throttle: LoginThrottle;

  constructor(limits: AccountMailLimits, linkBaseUrl: string, relay: MailRelay, throttle: LoginThrottle) {
    this.limits = limits;
    this.linkBaseUrl = linkBaseUrl;
    this.relay = relay;
    this.throttle = throttle;
  }

  /** Writes the message with a fresh token to the outbox, unless one of its purpose went out within the cooldown. Answers whether it did. */
  async send(em: EntityManager, user: User, message: AccountMessage): Promise<boolean> {
    const purpose = PURPOSE[message];
    if ((await this.cooldownLeft(em, user, purpose)) > 0) return false;
    await em.nativeUpdate(EmailToken, { user, purpose, usedAt: null }, { usedAt: new Date() });
    const token = newSecretToken();
    const ttl = purpose === 'verify_email' ? this.limits.verificationTtlSeconds : this.limits.resetTtlSeconds;
    const stored = new EmailToken({ user, purpose, tokenHash: hashSecretToken(token), expiresAt: new Date(Date.now() + ttl * 1000) });
    const rendered = RENDER[message]({ username: user.username, link: `${this.linkBaseUrl}/${PAGE[purpose]}/${token}`, expiresAt: stored.expiresAt });
    em.persist([stored, new MailOutboxEntry({ invitationId: null, recipient: user.email, ...rendered })]);
    await em.flush();
    return true;
  }

  /** Seconds until the account may be mailed a token of this purpose again (0: now). */
  async cooldownLeft(em: EntityManager, user: User, purpose: EmailTokenPurpose): Promise<number> {
    const newest = await em.findOne(EmailToken, { user, purpose }, { orderBy: { createdAt: 'desc' }, fields: ['createdAt'] });
    if (!newest) return 0;
    return Math.max(0, (newest.createdAt.getTime() + this.limits.cooldownSeconds * 1000 - Date.now()) / 1000);
  }

  /** Sends what the outbox holds now rather than at the next poll. */
  kick(): void {
    this.relay.kick();
  }

  /**
   * The open token of one of these purposes, with its user; the same 404 for anything else. With
   * `lock`, its row stays locked until the transaction ends, so only one use can claim it.
   */
  async open(em: EntityManager, token: string, purposes: readonly EmailTokenPurpose[], lock = false): Promise<EmailToken> {
    const found = await em.findOne(
      EmailToken,
      { tokenHash: hashSecretToken(token), purpose: { $in: [...purposes] } },
      { populate: ['user'], ...(lock && { lockMode: LockMode.PESSIMISTIC_WRITE }) },
    );
    if (!found?.isOpen()) throw noSuchLink();
    return found;
  }

  /** Used: neither it nor any other open token of the account works again. */
  async closeAllOf(em: EntityManager, user: User): Promise<void> {
    await em.nativeUpdate(EmailToken, { user, usedAt: null }, { usedAt: new Date() });
  }

  /** Counts a mail asked for, per typed address and per client address (429 past either). */
  async countAsk(em: EntityManager, email: string, client: SignInClient): Promise<void> {
    await this.throttle.countRequests(
      em,
      [
        { subject: `mail-account:${email.toLowerCase()}`, limit: this.limits.perAccount },
        { subject: `mail-address:${client.address}`, limit: this.limits.perAddress },
      ],
      'Too many account mails asked for; try again later',
    );
  }

  /** Counts a mailed token presented from this client address (429 past its share). */
  async countPresented(em: EntityManager, client: SignInClient): Promise<void> {
    await this.throttle.countRequests(em, [{ subject: `token-address:${client.address}`, limit: this.limits.perAddress }], 'Too many links tried; try again later');
  }
}
