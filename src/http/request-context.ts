import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

// Any visible ASCII: AuthZEN PEPs send arbitrary ids and expect the very same one back.
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Every response carries X-Request-Id: the caller's, when it looks like one, or a new one. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const offered = ctx.get('X-Request-Id');
    const id = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}

/** One log line and one histogram sample per request, after the error boundary has set the status. */
export function accessLog(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof ctx.state.route === 'string' ? ctx.state.route : 'unmatched';
      metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      logger.info(
        {
          requestId: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          durationMs: Math.round(seconds * 1e6) / 1e3,
        },
        'request',
      );
    }
  };
}
