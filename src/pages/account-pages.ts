import type { Context } from 'koa';
import { z } from 'zod';
import { password } from '../routes/auth/schema.ts';
import type { EmailVerificationService } from '../services/email-verification.service.ts';
import type { PasswordService } from '../services/password.service.ts';
import { Unauthenticated, ValidationFailed } from '../errors.ts';
import { csrfToken, explain, parseFields } from './forms.ts';
import { field, form, html, layout, notice, type Html } from './html.ts';
import { linkGonePage } from './link-gone.ts';
import { sendPage } from './respond.ts';

const newPassword = z.strictObject({ password, confirmation: z.string().max(128) });

/**
 * `/verify-email/{token}` and `/reset-password/{token}`. Verifying asks for the account's password
 * (the link proves the address, the password the account); whoever owns the address but not the
 * account takes it over with a new password instead. Resetting asks for the new password twice.
 */
export class AccountPages {
  private readonly verification: EmailVerificationService;
  private readonly passwords: PasswordService;

  constructor(verification: EmailVerificationService, passwords: PasswordService) {
    this.verification = verification;
    this.passwords = passwords;
  }

  async showVerification(ctx: Context, token: string, message: Html | null = null, status = 200): Promise<void> {
    const link = await this.linkOr404(ctx, 'verification', () => this.verification.linkFor(token));
    if (!link) return;
    const csrf = csrfToken(ctx);
    sendPage(
      ctx,
      status,
      layout(
        'Confirm your email address',
        html`${message}
<p>This link confirms that <strong>${link.email}</strong> belongs to the account <strong>${link.username}</strong>.</p>
${form('verify', csrf, field('password', "The account's password", 'password', 'current-password'), 'Confirm my address')}
<h2>Did not create this account?</h2>
<p class="muted">Someone may have signed up with your address. Choose a password to take the account over: everyone signed in to it is signed out, and the address is confirmed as yours.</p>
${form('take_over', csrf, html`${field('password', 'New password', 'password', 'new-password')}${field('confirmation', 'New password again', 'password', 'new-password')}`, 'Take over this account', 'secondary')}`,
      ),
    );
  }

  async submitVerification(ctx: Context, token: string, fields: URLSearchParams): Promise<void> {
    const client = { address: ctx.ip };
    await this.attempt(ctx, 'verification', async () => {
      if (fields.get('action') === 'take_over') {
        await this.passwords.reset(token, chosenPassword(fields), client);
        return passwordChangedPage('The account is yours');
      }
      const user = await this.verification.verify(token, fields.get('password') ?? '', client).catch((error: unknown) => {
        // The page asks for no email: "wrong email or password" would puzzle.
        throw error instanceof Unauthenticated ? new Unauthenticated("That is not this account's password") : error;
      });
      return layout('Address confirmed', html`<div class="notice success" role="status"><p><strong>${user.email}</strong> is confirmed as the address of <strong>${user.username}</strong>.</p></div><p>Invitations sent to this address now show in the app.</p>`);
    }, (message, status) => this.showVerification(ctx, token, message, status));
  }

  async showReset(ctx: Context, token: string, message: Html | null = null, status = 200): Promise<void> {
    const link = await this.linkOr404(ctx, 'reset', () => this.passwords.linkFor(token));
    if (!link) return;
    sendPage(
      ctx,
      status,
      layout(
        'Choose a new password',
        html`${message}
<p>For the account <strong>${link.username}</strong> (${link.email}). Every session of the account is signed out once the password is changed.</p>
${form('reset', csrfToken(ctx), html`${field('password', 'New password', 'password', 'new-password')}${field('confirmation', 'New password again', 'password', 'new-password')}`, 'Change my password')}`,
      ),
    );
  }

  async submitReset(ctx: Context, token: string, fields: URLSearchParams): Promise<void> {
    await this.attempt(ctx, 'reset', async () => {
      await this.passwords.reset(token, chosenPassword(fields), { address: ctx.ip });
      return passwordChangedPage('Password changed');
    }, (message, status) => this.showReset(ctx, token, message, status));
  }

  /** Runs the form's work: its page on success, the form again with the reason on a refusal, the gone page for a dead link. */
  private async attempt(
    ctx: Context,
    kind: 'verification' | 'reset',
    work: () => Promise<string>,
    again: (message: Html | null, status: number) => Promise<void>,
  ): Promise<void> {
    try {
      sendPage(ctx, 200, await work());
    } catch (error) {
      const explained = explain(error);
      if (!explained) throw error;
      if (explained.status === 404) return sendPage(ctx, 404, linkGonePage(kind));
      await again(notice('error', explained.lines), explained.status);
    }
  }

  private async linkOr404<T>(ctx: Context, kind: 'verification' | 'reset', find: () => Promise<T>): Promise<T | null> {
    try {
      return await find();
    } catch (error) {
      if (explain(error)?.status !== 404) throw error;
      sendPage(ctx, 404, linkGonePage(kind));
      return null;
    }
  }
}

/** The new password, typed twice alike (422 otherwise). */
function chosenPassword(fields: URLSearchParams): string {
  const chosen = parseFields(newPassword, { password: fields.get('password') ?? '', confirmation: fields.get('confirmation') ?? '' });
  if (chosen.password !== chosen.confirmation) throw new ValidationFailed([{ field: 'body.confirmation', message: 'does not match the new password' }]);
  return chosen.password;
}

function passwordChangedPage(title: string): string {
  return layout(
    title,
    html`<div class="notice success" role="status"><p>The password is changed and every session of the account was signed out.</p></div><p>Sign in with the new password.</p>`,
  );
}
