import type { Router } from '@koa/router';
import { RequestContext } from '@mikro-orm/core';
import Koa from 'koa';
import { withRequestMetadata } from '../audit/request-metadata.ts';
import type { Config } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import { MethodNotAllowed, NotFound, NotImplemented } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { errorHandler } from './error-handler.ts';
import { jsonBody } from './body-parser.ts';
import { accessLog, requestId } from './request-context.ts';
import { provideSeals } from './seals.ts';
import type { Seals } from '../services/seals.ts';
import type { Api } from './route.ts';

export interface HttpPipelineParts {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  orm: Orm;
  /** The routes, already mounted (src/routes/index.ts). */
  api: Api;
  /** Seal the ZedTokens and page cursors the routes hand out. */
  seals: Seals;
  /** The HTML pages the mailed links open (src/pages), before the JSON body parser: they post forms. */
  pages: Router;
}

/** The HTTP pipeline around the routes: the middleware order below is the request's path through it. */
export function buildHttpPipeline(deps: HttpPipelineParts): Koa {
  // Behind N proxies only the right-most N X-Forwarded-For entries were written by them; ctx.ip is
  // the left-most of those (Koa's maxIpsCount), never an entry the client wrote itself.
  const app = new Koa({ proxy: deps.config.http.trustProxy, maxIpsCount: deps.config.http.trustProxyHops });
  // What reaches here failed after the response began: a streamed body (an audit export) whose
  // client hung up, or whose source failed. The client already has its status; log, not console.
  app.on('error', (error: NodeJS.ErrnoException, ctx?: Koa.Context) => {
    const hungUp = error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET' || error.code === 'EPIPE';
    deps.logger[hungUp ? 'debug' : 'error']({ err: error, requestId: ctx?.state.requestId }, 'a streamed response ended early');
  });
  app.use(requestId());
  // Where each change came from, for the audit log; services read it without knowing Koa.
  app.use((ctx, next) =>
    withRequestMetadata({ requestId: String(ctx.state.requestId), clientAddress: ctx.ip || null, userAgent: ctx.get('User-Agent') || null }, next),
  );
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(async (ctx, next) => {
    await next();
    // Nothing answered (no route, and allowedMethods found no other method): a 404 problem.
    if (ctx.status === 404 && ctx.body === undefined) throw new NotFound(`No route for ${ctx.method} ${ctx.path}`);
  });
  // One EntityManager per request; the global one is never shared across requests.
  app.use((_ctx, next) => RequestContext.create(deps.orm.em, next));
  app.use(deps.pages.routes());
  app.use(jsonBody(deps.config.http.bodyLimitBytes));
  app.use(provideSeals(deps.seals));
  app.use(deps.api.router.routes());
  app.use(
    deps.api.router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new MethodNotAllowed('This resource does not answer that method'),
      notImplemented: () => new NotImplemented('This service does not implement that method'),
    }),
  );
  return app;
}
