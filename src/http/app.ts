import { RequestContext } from '@mikro-orm/core';
import Koa from 'koa';
import type { SpiceDbClient } from '../authz/spicedb.client.js';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { MethodNotAllowed, NotFound } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { docsRoutes } from '../routes/docs/router.js';
import { healthRoutes } from '../routes/health/router.js';
import { HealthService } from '../services/health.service.js';
import { jsonBody } from './body-parser.js';
import { errorHandler } from './error-handler.js';
import { accessLog, requestId } from './request-context.js';
import { Api } from './route.js';

export interface AppDependencies {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  orm: Orm;
  spicedb: SpiceDbClient;
}

/** Composes the HTTP application: the middleware order below is the request's path through it. */
export function createApp(deps: AppDependencies): Koa {
  const api = new Api();
  healthRoutes(api, new HealthService(deps.orm, deps.spicedb), deps.metrics);
  docsRoutes(api);

  const app = new Koa();
  app.use(requestId());
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(async (ctx, next) => {
    await next();
    // Nothing answered (no route, and allowedMethods found no other method): a 404 problem.
    if (ctx.status === 404 && ctx.body === undefined) throw new NotFound(`No route for ${ctx.method} ${ctx.path}`);
  });
  app.use(jsonBody(deps.config.http.bodyLimitBytes));
  // One EntityManager per request; the global one is never shared across requests.
  app.use((_ctx, next) => RequestContext.create(deps.orm.em, next));
  app.use(api.router.routes());
  app.use(
    api.router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new MethodNotAllowed('This resource does not answer that method'),
    }),
  );
  return app;
}
