import { RequestContext } from '@mikro-orm/core';
import Koa from 'koa';
import type { Config } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import { MethodNotAllowed, NotFound, NotImplemented } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { authRoutes } from '../routes/auth/router.ts';
import { authzRoutes } from '../routes/authz/router.ts';
import { docsRoutes } from '../routes/docs/router.ts';
import { healthRoutes } from '../routes/health/router.ts';
import { organizationRoutes } from '../routes/organizations/router.ts';
import { workspaceRoutes } from '../routes/workspaces/router.ts';
import type { AccessTokens } from '../services/access-tokens.ts';
import type { AuthorizationService } from '../services/authorization.service.ts';
import type { ServiceAccountService } from '../services/service-account.service.ts';
import type { HealthService } from '../services/health.service.ts';
import type { IdentityService } from '../services/identity.service.ts';
import type { OrganizationMemberService } from '../services/organization-member.service.ts';
import type { OrganizationService } from '../services/organization.service.ts';
import type { WorkspaceMemberService } from '../services/workspace-member.service.ts';
import type { WorkspaceService } from '../services/workspace.service.ts';
import { callerAuthentication, userAuthentication } from './authenticate.ts';
import { jsonBody } from './body-parser.ts';
import { errorHandler } from './error-handler.ts';
import { accessLog, requestId } from './request-context.ts';
import { Api } from './route.ts';

export interface AppDependencies {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  orm: Orm;
  tokens: AccessTokens;
  health: HealthService;
  identity: IdentityService;
  organizations: OrganizationService;
  members: OrganizationMemberService;
  workspaces: WorkspaceService;
  workspaceMembers: WorkspaceMemberService;
  serviceAccounts: ServiceAccountService;
  authorization: AuthorizationService;
}

/** Composes the HTTP application: the middleware order below is the request's path through it. */
export function createApp(deps: AppDependencies): Koa {
  const api = new Api({
    user: userAuthentication(deps.tokens),
    caller: callerAuthentication(deps.tokens, deps.serviceAccounts),
  });
  healthRoutes(api, deps.health, deps.metrics);
  authRoutes(api, deps.identity, deps.tokens);
  organizationRoutes(api, deps.organizations, deps.members);
  workspaceRoutes(api, deps.workspaces, deps.workspaceMembers);
  authzRoutes(api, deps.authorization);
  docsRoutes(api);

  const app = new Koa({ proxy: deps.config.http.trustProxy });
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
      notImplemented: () => new NotImplemented('This service does not implement that method'),
    }),
  );
  return app;
}
