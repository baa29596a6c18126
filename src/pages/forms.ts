import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AppError, ValidationFailed } from '../errors.ts';

const CSRF_COOKIE = 'tenant_authz_csrf';
/** Our forms hold a few short fields; anything larger is not one of them. */
const FORM_LIMIT_BYTES = 16 * 1024;

/** A form post that did not come from our own page: stale, or forged by another site. */
export class ForgedForm extends Error {}

/**
 * Double-submit CSRF: the page sets a random value in a SameSite=Strict, HttpOnly cookie and
 * repeats it in a hidden field; a post must carry both, equal. Another site can neither read the
 * cookie nor make the browser send it with a cross-site post. The Origin header, when the browser
 * sends one, must also be this service (its own origin or PUBLIC_URL's).
 */
export function csrfToken(ctx: Context): string {
  const existing = ctx.cookies.get(CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const fresh = randomBytes(32).toString('base64url');
  ctx.cookies.set(CSRF_COOKIE, fresh, { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/', overwrite: true });
  return fresh;
}

/** The posted fields, once the post is shown to come from our page (ForgedForm otherwise). */
export async function readForm(ctx: Context, publicUrl: string): Promise<URLSearchParams> {
  const origin = ctx.get('Origin');
  // Built from the Host header, not ctx.origin: Koa 3 answers the request's Origin header there.
  const own = `${ctx.protocol}://${ctx.host}`;
  if (origin && origin !== own && origin !== new URL(publicUrl).origin) throw new ForgedForm('foreign origin');
  if (!ctx.is('application/x-www-form-urlencoded')) throw new ForgedForm('not a form');
  const fields = new URLSearchParams(await readBody(ctx));
  const cookie = ctx.cookies.get(CSRF_COOKIE) ?? '';
  const posted = fields.get('_csrf') ?? '';
  if (!cookie || cookie.length !== posted.length || !timingSafeEqual(Buffer.from(cookie), Buffer.from(posted))) throw new ForgedForm('csrf mismatch');
  return fields;
}

async function readBody(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT_BYTES) throw new ForgedForm('too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What to tell a person about a refusal, in words, and the status the page answers with. */
export function explain(error: unknown): { status: number; lines: string[] } | undefined {
  if (error instanceof ValidationFailed) {
    return { status: 422, lines: error.errors.map(({ field, message }) => `${fieldName(field)} ${message}.`) };
  }
  if (error instanceof AppError && error.status < 500) return { status: error.status, lines: [error.message] };
  return undefined;
}

function fieldName(field: string): string {
  const name = field.split('.').at(-1) ?? field;
  return name === 'password' || name === 'new_password' ? 'The password' : `The ${name.replace(/_/g, ' ')}`;
}

/** The fields through the same zod schema the JSON API uses (422 with per-field messages otherwise). */
export function parseFields<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, values: Record<string, string>): T {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  throw new ValidationFailed(parsed.error.issues.map((issue) => ({ field: ['body', ...issue.path.map(String)].join('.'), message: issue.message })));
}
