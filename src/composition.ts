import type Koa from 'koa';
import { CheckpointSigner } from './audit/audit-checkpoint.ts';
import type { AuditAppend } from './audit/audit-log.ts';
import { TenantAccess } from './authz/access.ts';
import { Authorizer } from './authz/authorizer.ts';
import { RelationshipOutbox } from './authz/outbox.ts';
import { OutboxRelay } from './authz/outbox-relay.ts';
import { TenantUnitOfWork } from './authz/tenant-unit-of-work.ts';
import { MfaEnrolments } from './authz/mfa-enrolments.ts';
import type { Policy } from './authz/policy-modules.ts';
import type { SessionRevocations } from './authz/session-revocations.ts';
import type { SpiceDbClient } from './authz/spicedb.client.ts';
import type { Config } from './config.ts';
import type { Orm } from './db/orm.ts';
import { buildHttpPipeline } from './http/app.ts';
import { callerAuthentication, pepAuthentication, serviceAuthentication, userAuthentication } from './http/authenticate.ts';
import { Api } from './http/route.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { createMailer } from './mail/mailer.ts';
import { MailRelay } from './mail/mail-relay.ts';
import { pageRouter } from './pages/router.ts';
import { mountRoutes, type RouteServices } from './routes/index.ts';
import { AccessTokens } from './services/access-tokens.ts';
import { AccountDeletionService } from './services/account-deletion.service.ts';
import { AuditService } from './services/audit.service.ts';
import { AuthorizationService } from './services/authorization.service.ts';
import { AuthZenService } from './services/authzen.service.ts';
import { SearchPages } from './services/authzen-search-pages.ts';
import { AuthZenVocabulary } from './services/authzen-vocabulary.ts';
import { EventFeedService } from './services/event-feed.service.ts';
import { WebhookEndpointService } from './services/webhook-endpoint.service.ts';
import { WebhookDispatcher } from './events/webhooks/webhook-dispatcher.ts';
import { ServiceAccountService } from './services/service-account.service.ts';
import { SessionContexts } from './services/session-context.ts';
import { SessionService } from './services/session.service.ts';
import { SignInGate } from './services/sign-in-gate.ts';
import { HealthService } from './services/health.service.ts';
import { AccountMail } from './services/account-mail.ts';
import { EmailVerificationService } from './services/email-verification.service.ts';
import { IdentityService } from './services/identity.service.ts';
import { PasswordService } from './services/password.service.ts';
import { InvitationAnswerService } from './services/invitation-answer.service.ts';
import { InvitationMailQuota } from './services/invitation-mail-quota.ts';
import { IntrospectionService } from './services/introspection.service.ts';
import { InvitationService } from './services/invitation.service.ts';
import { InviterAuthority } from './services/inviter-authority.ts';
import { KnownClients } from './services/known-clients.ts';
import { LoginThrottle } from './services/login-throttle.ts';
import { LookupCursors } from './services/lookup-cursors.ts';
import { OrganizationMemberService } from './services/organization-member.service.ts';
import { OrganizationService } from './services/organization.service.ts';
import { PasswordHasher } from './services/password-hasher.ts';
import { ResourceGrantService } from './services/resource-grant.service.ts';
import { ResourceService } from './services/resource.service.ts';
import { ModuleRelationshipService } from './services/module-relationship.service.ts';
import { SubscriptionTierService } from './services/subscription-tier.service.ts';
import { Seals } from './services/seals.ts';
import { SecondFactors } from './services/second-factors.ts';
import { MfaSignIn } from './services/mfa-sign-in.ts';
import { TeamMemberService } from './services/team-member.service.ts';
import { CustomRoleAssignmentService } from './services/custom-role-assignment.service.ts';
import { CustomRoleService } from './services/custom-role.service.ts';
import { RoleEscalationGuard } from './services/role-escalation.ts';
import { TeamService } from './services/team.service.ts';
import { WorkspaceMemberService } from './services/workspace-member.service.ts';
import { WorkspaceService } from './services/workspace.service.ts';

/** What the composition root builds on: configuration, observability and the two stores. */
export interface Foundations {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  orm: Orm;
  spicedb: SpiceDbClient;
  /** schema.zed and the policy modules, as written to SpiceDB. */
  policy: Policy;
  revocations: SessionRevocations;
  /**
   * Replaces the unit of work's audit append. Only the bench sets it (its no-audit baseline,
   * scripts/bench/service-without-audit.ts); no configuration reaches it.
   */
  appendAudit?: AuditAppend | undefined;
}

export interface Application {
  app: Koa;
  /** The services the routes call, for tools that act as a route would (the test factories). */
  services: RouteServices;
  outbox: RelationshipOutbox;
  relay: OutboxRelay;
  /** Sends the mail outbox (invitations). */
  mailRelay: MailRelay;
  /** Signs audit checkpoints (AUDIT_CHECKPOINT_KEY); absent when none is configured. */
  checkpointSigner: CheckpointSigner | undefined;
  /** Fans events out to webhook endpoints and delivers them. */
  webhooks: WebhookDispatcher;
}

/** The composition root: every service built once, from the two stores, mounted on the routes, wrapped in the HTTP pipeline. */
export async function composeApplication(foundations: Foundations): Promise<Application> {
  const { config, logger, metrics, orm, spicedb, policy, revocations } = foundations;
  const outbox = new RelationshipOutbox();
  const relay = new OutboxRelay(orm, spicedb, metrics, logger, config.outbox.pollMs);
  const authorizer = new Authorizer(spicedb);
  const access = new TenantAccess(authorizer);
  const tokens = await AccessTokens.load(orm, config.jwt, metrics);
  const seals = await Seals.load(orm, config.sealing.serverSecret);
  const lookupCursors = new LookupCursors(seals, config.sealing.lookupCursorTtlSeconds);
  const checkpointSigner = config.audit.checkpointKey === undefined ? undefined : await CheckpointSigner.load(config.audit.checkpointKey);
  const unitOfWork = new TenantUnitOfWork(orm, spicedb, outbox, relay, logger, foundations.appendAudit);
  const organizations = new OrganizationService(orm, outbox, relay, unitOfWork, authorizer, access, config.planLimits);
  const inviterAuthority = new InviterAuthority(authorizer);
  const escalation = new RoleEscalationGuard(authorizer);
  const members = new OrganizationMemberService(orm, unitOfWork, access, organizations, inviterAuthority, escalation);
  const mailer = createMailer(config.mail, logger);
  const mailRelay = new MailRelay(orm, mailer, logger, { pollMs: config.mail.pollMs, maxAttempts: config.mail.maxAttempts });
  const quota = new InvitationMailQuota(config.invitationMail);
  const invitations = new InvitationService(orm, unitOfWork, access, organizations, mailRelay, quota, config.mail.linkBaseUrl, escalation);
  const workspaces = new WorkspaceService(orm, unitOfWork, authorizer, access, organizations);
  const workspaceMembers = new WorkspaceMemberService(orm, access, workspaces);
  const teams = new TeamService(orm, unitOfWork, access, config.teams);
  const roles = new CustomRoleService(orm, unitOfWork, access, organizations, escalation);
  const passwords = new PasswordHasher(config.passwords.cost, config.passwords, (operation) => metrics.passwordHashes.inc({ operation }));
  const loginThrottle = new LoginThrottle(config.loginThrottle);
  const accountMail = new AccountMail(config.accountMail, config.mail.linkBaseUrl, mailRelay, loginThrottle);
  const secondFactors = new SecondFactors(orm, seals, config.mfa, new MfaEnrolments(orm, spicedb, outbox, relay));
  const sessions = new SessionService(orm, tokens, authorizer, new SessionContexts(authorizer, access, organizations), revocations, config.jwt.refreshTtlSeconds);
  const identity = new IdentityService(
    orm,
    passwords,
    new SignInGate(orm, passwords, loginThrottle, new KnownClients(config.loginThrottle.knownClientDays), config.passwords),
    sessions,
    tokens,
    organizations,
    revocations,
    accountMail,
    logger,
    secondFactors,
  );
  const resources = new ResourceService(orm, unitOfWork, access);
  const moduleRelationships = new ModuleRelationshipService(orm, spicedb, outbox, relay, access, policy);
  const serviceAccounts = new ServiceAccountService(orm, policy, config.serviceAccountCacheSeconds);
  const webhooks = new WebhookDispatcher(orm, logger, config.events);
  const api = new Api({
    user: userAuthentication(tokens, revocations),
    caller: callerAuthentication(tokens, revocations, serviceAccounts),
    service: serviceAuthentication(serviceAccounts),
    pep: pepAuthentication(tokens, revocations, serviceAccounts),
  });
  const authorization = new AuthorizationService(orm, spicedb, resources, moduleRelationships, policy, { seals, cursors: lookupCursors }, metrics);
  const authzenMapping = { vocabulary: new AuthZenVocabulary(policy.model), pages: new SearchPages(seals, config.sealing.lookupCursorTtlSeconds) };
  const services: RouteServices = {
    metrics,
    tokens,
    health: new HealthService(orm, spicedb),
    identity,
    emailVerification: new EmailVerificationService(orm, identity, accountMail),
    passwords: new PasswordService(orm, identity, passwords, sessions, accountMail, logger),
    sessions,
    secondFactors,
    mfaSignIn: new MfaSignIn(orm, secondFactors, sessions),
    accountDeletion: new AccountDeletionService(orm, unitOfWork, identity, sessions, config.account.recentSignInMinutes),
    introspection: new IntrospectionService(identity, authorizer),
    organizations,
    members,
    subscriptionTiers: new SubscriptionTierService(unitOfWork),
    invitations,
    invitationAnswers: new InvitationAnswerService(orm, unitOfWork, organizations, inviterAuthority),
    workspaces,
    workspaceMembers,
    teams,
    teamMembers: new TeamMemberService(orm, access, teams),
    authorization,
    authzen: new AuthZenService(authorization, spicedb, authzenMapping, config.http.publicUrl),
    roles,
    roleAssignments: new CustomRoleAssignmentService(roles, organizations, escalation),
    resources,
    moduleRelationships,
    grants: new ResourceGrantService(orm, unitOfWork, access),
    audit: new AuditService(orm, access, checkpointSigner),
    events: new EventFeedService(orm, config.events.retentionDays),
    webhookEndpoints: new WebhookEndpointService(orm, config.events.webhooks.allowPrivateUrls, () => webhooks.kick()),
  };
  mountRoutes(api, services);
  const pages = pageRouter(services, config.mail.publicUrl);
  const app = buildHttpPipeline({ config, logger, metrics, orm, api, seals, pages });
  return { app, services, outbox, relay, mailRelay, checkpointSigner, webhooks };
}
