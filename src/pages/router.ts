import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { EmailVerificationService } from '../services/email-verification.service.ts';
import type { IdentityService } from '../services/identity.service.ts';
import type { InvitationAnswerService } from '../services/invitation-answer.service.ts';
import type { PasswordService } from '../services/password.service.ts';
import { AccountPages } from './account-pages.ts';
import { ForgedForm, readForm } from './forms.ts';
import { STYLESHEET, STYLESHEET_PATH } from './html.ts';
import { InvitationPage } from './invitation-page.ts';
import { staleFormPage } from './link-gone.ts';
import { sendPage } from './respond.ts';

export interface PageServices {
  identity: IdentityService;
  invitationAnswers: InvitationAnswerService;
  emailVerification: EmailVerificationService;
  passwords: PasswordService;
}

/** A mailed token's shape; anything else is a link that never was (the same page as an expired one). */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The pages the mailed links open, served by the service itself (no front-end build): plain
 * functions write escaped HTML, forms post back to the same path. A front end that serves its own
 * pages points the links at itself with MAIL_LINK_BASE_URL; these stay, as does the JSON API.
 */
export function pageRouter(services: PageServices, publicUrl: string): Router {
  const router = new Router();
  const invitation = new InvitationPage(services.identity, services.invitationAnswers);
  const account = new AccountPages(services.emailVerification, services.passwords);
  const pages: Array<[string, (ctx: Context, token: string) => Promise<void>, (ctx: Context, token: string, fields: URLSearchParams) => Promise<void>]> = [
    ['/invitations/:token', (ctx, token) => invitation.show(ctx, token), (ctx, token, fields) => invitation.submit(ctx, token, fields)],
    ['/verify-email/:token', (ctx, token) => account.showVerification(ctx, token), (ctx, token, fields) => account.submitVerification(ctx, token, fields)],
    ['/reset-password/:token', (ctx, token) => account.showReset(ctx, token), (ctx, token, fields) => account.submitReset(ctx, token, fields)],
  ];
  for (const [path, show, submit] of pages) {
    router.get(path, (ctx) => show(ctx, wellFormed(ctx.params.token)));
    router.post(path, async (ctx) => {
      let fields: URLSearchParams;
      try {
        fields = await readForm(ctx, publicUrl);
      } catch (error) {
        if (!(error instanceof ForgedForm)) throw error;
        return sendPage(ctx, 403, staleFormPage());
      }
      await submit(ctx, wellFormed(ctx.params.token), fields);
    });
  }
  router.get(STYLESHEET_PATH, (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = STYLESHEET;
  });
  return router;
}

/** A malformed token is looked up as one that matches nothing, so it gets the same page. */
function wellFormed(token: string | undefined): string {
  return token && TOKEN.test(token) ? token : '-';
}
