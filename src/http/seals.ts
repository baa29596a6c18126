import type { Context, Middleware } from 'koa';
import { Seals } from '../services/seals.ts';

/** Puts the app's Seals where the routes' helpers (ZedToken header, page cursors) find them. */
export function provideSeals(seals: Seals): Middleware {
  return (ctx, next) => {
    ctx.state.seals = seals;
    return next();
  };
}

/** The Seals of the app serving this request. */
export function sealsOf(ctx: Context): Seals {
  const seals: unknown = ctx.state.seals;
  if (!(seals instanceof Seals)) throw new Error('No Seals on this request: the HTTP pipeline provides them (provideSeals)');
  return seals;
}
