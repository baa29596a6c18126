import type { Context } from 'koa';
import type { Written } from '../authz/tenant-unit-of-work.ts';
import { sealsOf } from './seals.ts';

/**
 * Hands the write's ZedToken to the caller, sealed, in a `ZedToken` header: passed to the check
 * API as `{at_least_as_fresh: token}`, the next check is sure to see this change.
 */
export function withZedToken<T>(ctx: Context, written: Written<T>): T {
  if (written.zedToken) ctx.set('ZedToken', sealsOf(ctx).sealZedToken(written.zedToken));
  return written.result;
}
