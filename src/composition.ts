import type Koa from 'koa';
import { TenantAccess } from './authz/access.js';
import { Authorizer } from './authz/authorizer.js';
import { RelationshipOutbox } from './authz/outbox.js';
import { RelationshipWriter } from './authz/relationship-writer.js';
import { describeSchema, readSchema } from './authz/schema.js';
import type { SpiceDbClient } from './authz/spicedb.client.js';
import type { Config } from './config.js';
import type { Orm } from './db/orm.js';
import { createApp } from './http/app.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { AccessTokens } from './services/access-tokens.js';
import { AuthorizationService } from './services/authorization.service.js';
import { ServiceAccountService } from './services/service-account.service.js';
import { HealthService } from './services/health.service.js';
import { IdentityService } from './services/identity.service.js';
import { LoginThrottle } from './services/login-throttle.js';
import { OrganizationMemberService } from './services/organization-member.service.js';
import { OrganizationService } from './services/organization.service.js';
import { PasswordHasher } from './services/password-hasher.js';
import { WorkspaceMemberService } from './services/workspace-member.service.js';
import { WorkspaceService } from './services/workspace.service.js';

export interface ApplicationDependencies {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  orm: Orm;
  spicedb: SpiceDbClient;
}

export interface Application {
  app: Koa;
  outbox: RelationshipOutbox;
}

/** The composition root: every service built once, from the two stores, and handed to the HTTP app. */
export async function composeApplication(dependencies: ApplicationDependencies): Promise<Application> {
  const { config, logger, metrics, orm, spicedb } = dependencies;
  const outbox = new RelationshipOutbox(orm, spicedb, metrics, logger, config.outbox.pollMs);
  const authorizer = new Authorizer(spicedb);
  const access = new TenantAccess(authorizer);
  const tokens = await AccessTokens.load(orm, config.jwt);
  const writer = new RelationshipWriter(orm, spicedb, outbox, logger);
  const organizations = new OrganizationService(orm, outbox, writer, authorizer, access, config.planLimits);
  const members = new OrganizationMemberService(orm, writer, access, organizations);
  const workspaces = new WorkspaceService(orm, writer, authorizer, access, organizations);
  const workspaceMembers = new WorkspaceMemberService(orm, access, workspaces);
  const schemaText = readSchema();
  const schema = describeSchema(schemaText);
  const identity = new IdentityService(
    orm,
    new PasswordHasher(config.passwords.cost),
    new LoginThrottle(config.loginThrottle),
    tokens,
    authorizer,
    access,
    organizations,
    config.jwt.refreshTtlSeconds,
  );
  const app = createApp({
    config,
    logger,
    metrics,
    orm,
    tokens,
    health: new HealthService(orm, spicedb),
    identity,
    organizations,
    members,
    workspaces,
    workspaceMembers,
    serviceAccounts: new ServiceAccountService(orm, schema, config.serviceAccountCacheSeconds),
    authorization: new AuthorizationService(spicedb, schema, schemaText),
  });
  return { app, outbox };
}
