import type { Context } from 'koa';
import { PAGE_CSP } from './html.ts';

/** Every page answers with these: a strict CSP, no referrer to other sites (the token is in the URL), never cached or framed. */
export function sendPage(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.set('Content-Security-Policy', PAGE_CSP);
  // same-origin, not no-referrer: with no-referrer a browser posts the forms with `Origin: null`.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}
