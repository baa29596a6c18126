import type { Api } from '../http/route.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AuditService } from '../services/audit.service.ts';
import type { AccessTokens } from '../services/access-tokens.ts';
import type { AuthorizationService } from '../services/authorization.service.ts';
import type { EventFeedService } from '../services/event-feed.service.ts';
import type { WebhookEndpointService } from '../services/webhook-endpoint.service.ts';
import type { HealthService } from '../services/health.service.ts';
import type { IdentityService } from '../services/identity.service.ts';
import type { InvitationAnswerService } from '../services/invitation-answer.service.ts';
import type { IntrospectionService } from '../services/introspection.service.ts';
import type { InvitationService } from '../services/invitation.service.ts';
import type { CustomRoleAssignmentService } from '../services/custom-role-assignment.service.ts';
import type { CustomRoleService } from '../services/custom-role.service.ts';
import type { OrganizationMemberService } from '../services/organization-member.service.ts';
import type { OrganizationService } from '../services/organization.service.ts';
import type { ResourceGrantService } from '../services/resource-grant.service.ts';
import type { ResourceService } from '../services/resource.service.ts';
import type { SubscriptionTierService } from '../services/subscription-tier.service.ts';
import type { TeamMemberService } from '../services/team-member.service.ts';
import type { TeamService } from '../services/team.service.ts';
import type { WorkspaceMemberService } from '../services/workspace-member.service.ts';
import type { WorkspaceService } from '../services/workspace.service.ts';
import { auditRoutes } from './audit/router.ts';
import { authRoutes } from './auth/router.ts';
import { authzRoutes } from './authz/router.ts';
import { docsRoutes } from './docs/router.ts';
import { eventRoutes } from './events/router.ts';
import { webhookRoutes } from './webhooks/router.ts';
import { healthRoutes } from './health/router.ts';
import { invitationRoutes } from './invitations/router.ts';
import { organizationRoutes } from './organizations/router.ts';
import { resourceRoutes } from './resources/router.ts';
import { roleRoutes } from './roles/router.ts';
import { teamRoutes } from './teams/router.ts';
import { workspaceRoutes } from './workspaces/router.ts';

/** What the routes call: the services, built once by the composition root. */
export interface RouteServices {
  metrics: Metrics;
  tokens: AccessTokens;
  health: HealthService;
  identity: IdentityService;
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
  roles: CustomRoleService;
  roleAssignments: CustomRoleAssignmentService;
  authorization: AuthorizationService;
  resources: ResourceService;
  grants: ResourceGrantService;
  audit: AuditService;
  events: EventFeedService;
  webhookEndpoints: WebhookEndpointService;
}

/** The route table: every resource's routes on one Api. */
export function mountRoutes(api: Api, services: RouteServices): void {
  healthRoutes(api, services.health, services.metrics);
  authRoutes(api, services.identity, services.tokens, services.invitationAnswers, services.introspection);
  organizationRoutes(api, services.organizations, services.members, services.invitations, services.subscriptionTiers);
  invitationRoutes(api, services.invitations, services.invitationAnswers);
  workspaceRoutes(api, services.workspaces, services.workspaceMembers);
  teamRoutes(api, services.teams, services.teamMembers);
  roleRoutes(api, services.roles, services.roleAssignments);
  authzRoutes(api, services.authorization);
  resourceRoutes(api, services.resources, services.grants);
  auditRoutes(api, services.audit);
  eventRoutes(api, services.events);
  webhookRoutes(api, services.webhookEndpoints);
  docsRoutes(api);
}
