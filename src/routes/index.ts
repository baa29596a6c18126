import type { Api } from '../http/route.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AccountDeletionService } from '../services/account-deletion.service.ts';
import type { AuditService } from '../services/audit.service.ts';
import type { AccessTokens } from '../services/access-tokens.ts';
import type { AuthorizationService } from '../services/authorization.service.ts';
import type { AuthZenService } from '../services/authzen.service.ts';
import type { ModuleRelationshipService } from '../services/module-relationship.service.ts';
import type { EventFeedService } from '../services/event-feed.service.ts';
import type { WebhookEndpointService } from '../services/webhook-endpoint.service.ts';
import type { HealthService } from '../services/health.service.ts';
import type { EmailVerificationService } from '../services/email-verification.service.ts';
import type { IdentityService } from '../services/identity.service.ts';
import type { InvitationAnswerService } from '../services/invitation-answer.service.ts';
import type { IntrospectionService } from '../services/introspection.service.ts';
import type { InvitationService } from '../services/invitation.service.ts';
import type { OrganizationMemberService } from '../services/organization-member.service.ts';
import type { OrganizationService } from '../services/organization.service.ts';
import type { PasswordService } from '../services/password.service.ts';
import type { ResourceGrantService } from '../services/resource-grant.service.ts';
import type { ResourceService } from '../services/resource.service.ts';
import type { SessionService } from '../services/session.service.ts';
import type { MfaSignIn } from '../services/mfa-sign-in.ts';
import type { SecondFactors } from '../services/second-factors.ts';
import type { SubscriptionTierService } from '../services/subscription-tier.service.ts';
import type { TeamMemberService } from '../services/team-member.service.ts';
import type { TeamService } from '../services/team.service.ts';
import type { WorkspaceMemberService } from '../services/workspace-member.service.ts';
import type { WorkspaceService } from '../services/workspace.service.ts';
import { accountRoutes } from './account/router.ts';
import { auditRoutes } from './audit/router.ts';
import { credentialRoutes } from './auth/credentials.router.ts';
import { authRoutes } from './auth/router.ts';
import { authzRoutes } from './authz/router.ts';
import { authzenRoutes } from './authzen/router.ts';
import { docsRoutes } from './docs/router.ts';
import { eventRoutes } from './events/router.ts';
import { webhookRoutes } from './webhooks/router.ts';
import { healthRoutes } from './health/router.ts';
import { invitationRoutes } from './invitations/router.ts';
import { mfaRoutes } from './mfa/router.ts';
import { organizationRoutes } from './organizations/router.ts';
import { resourceRoutes } from './resources/router.ts';
import { teamRoutes } from './teams/router.ts';
import { workspaceRoutes } from './workspaces/router.ts';

/** What the routes call: the services, built once by the composition root. */
export interface RouteServices {
  metrics: Metrics;
  tokens: AccessTokens;
  health: HealthService;
  identity: IdentityService;
  emailVerification: EmailVerificationService;
  passwords: PasswordService;
  sessions: SessionService;
  accountDeletion: AccountDeletionService;
  secondFactors: SecondFactors;
  mfaSignIn: MfaSignIn;
  introspection: IntrospectionService;
  organizations: OrganizationService;
  members: OrganizationMemberService;
  subscriptionTiers: SubscriptionTierService;
  invitations: InvitationService;
  invitationAnswers: InvitationAnswerService;
  workspaces: WorkspaceService;
  workspaceMembers: WorkspaceMemberService;
  teams: TeamService;
  teamMembers: TeamMemberService;
  authorization: AuthorizationService;
  authzen: AuthZenService;
  resources: ResourceService;
  /** Policy modules' relationships (the CLI's import uses it too). */
  moduleRelationships: ModuleRelationshipService;
  grants: ResourceGrantService;
  audit: AuditService;
  events: EventFeedService;
  webhookEndpoints: WebhookEndpointService;
}

/** The route table: every resource's routes on one Api. */
export function mountRoutes(api: Api, services: RouteServices): void {
  healthRoutes(api, services.health, services.metrics);
  authRoutes(api, services.identity, services.tokens, services.invitationAnswers, services.introspection);
  credentialRoutes(api, services.emailVerification, services.passwords);
  accountRoutes(api, services.sessions, services.accountDeletion);
  mfaRoutes(api, services.identity, services.secondFactors, services.mfaSignIn);
  organizationRoutes(api, services.organizations, services.members, services.invitations, services.subscriptionTiers);
  invitationRoutes(api, services.invitations, services.invitationAnswers);
  workspaceRoutes(api, services.workspaces, services.workspaceMembers);
  teamRoutes(api, services.teams, services.teamMembers);
  authzRoutes(api, services.authorization);
  authzenRoutes(api, services.authzen);
  resourceRoutes(api, services.resources, services.grants);
  auditRoutes(api, services.audit);
  eventRoutes(api, services.events);
  webhookRoutes(api, services.webhookEndpoints);
  docsRoutes(api);
}
