import { EmailToken, EmailTokenSchema } from './email-token.entity.ts';
import { CustomRole, CustomRoleSchema } from './custom-role.entity.ts';
import { CustomRoleAssignment, CustomRoleAssignmentSchema } from './custom-role-assignment.entity.ts';
import { Invitation, InvitationSchema } from './invitation.entity.ts';
import { LoginFailure, LoginFailureSchema } from './login-failure.entity.ts';
import { MailOutboxEntry, MailOutboxEntrySchema } from './mail-outbox-entry.entity.ts';
import { Organization, OrganizationSchema } from './organization.entity.ts';
import { OrganizationMembership, OrganizationMembershipSchema } from './organization-membership.entity.ts';
import { RefreshToken, RefreshTokenSchema } from './refresh-token.entity.ts';
import { Resource, ResourceSchema } from './resource.entity.ts';
import { ResourceGrant, ResourceGrantSchema } from './resource-grant.entity.ts';
import { RelationshipOutboxEntry, RelationshipOutboxEntrySchema } from './relationship-outbox-entry.entity.ts';
import { ServiceAccount, ServiceAccountSchema } from './service-account.entity.ts';
import { SignInSession, SignInSessionSchema } from './sign-in-session.entity.ts';
import { SigningKey, SigningKeySchema } from './signing-key.entity.ts';
import { Team, TeamSchema } from './team.entity.ts';
import { TeamMembership, TeamMembershipSchema } from './team-membership.entity.ts';
import { User, UserSchema } from './user.entity.ts';
import { Workspace, WorkspaceSchema } from './workspace.entity.ts';
import { WorkspaceMembership, WorkspaceMembershipSchema } from './workspace-membership.entity.ts';
import { WebhookEndpoint, WebhookEndpointSchema } from './webhook-endpoint.entity.ts';
export {
  DEFAULT_WORKSPACE_ROLES,
  SUBSCRIPTION_TIERS,
  type DefaultWorkspaceRole,
  type SubscriptionTier,
} from './organization.entity.ts';
export {
  DELIVERY_STATES,
  INVITATION_ROLES,
  INVITATION_STATES,
  type DeliveryState,
  type InvitationRole,
  type InvitationState,
  type InvitedWorkspace,
} from './invitation.entity.ts';
export { ORGANIZATION_ROLES, type OrganizationRole } from './organization-membership.entity.ts';
export { GRANT_ROLES, type GrantRole } from './resource-grant.entity.ts';
export type { SessionClient, SessionEnd } from './sign-in-session.entity.ts';
export { isLive, live, WORKSPACE_ROLES, type WorkspaceRole } from './workspace-membership.entity.ts';
export type { WebhookEndpointState } from './webhook-endpoint.entity.ts';

export type { EmailTokenPurpose } from './email-token.entity.ts';

export {
  EmailToken,
  CustomRole,
  CustomRoleAssignment,
  Invitation,
  LoginFailure,
  MailOutboxEntry,
  Organization,
  OrganizationMembership,
  RefreshToken,
  RelationshipOutboxEntry,
  Resource,
  ResourceGrant,
  ServiceAccount,
  SignInSession,
  SigningKey,
  Team,
  TeamMembership,
  User,
  Workspace,
  WorkspaceMembership,
  WebhookEndpoint,
};

/**
 * The mapping of every entity class. Plain classes plus an EntitySchema each, not decorators: no
 * decorator transform is needed, so Node runs these files as they are.
 */
export const entities = [
  UserSchema,
  OrganizationSchema,
  OrganizationMembershipSchema,
  WorkspaceSchema,
  WorkspaceMembershipSchema,
  SigningKeySchema,
  SignInSessionSchema,
  RefreshTokenSchema,
  LoginFailureSchema,
  RelationshipOutboxEntrySchema,
  ResourceSchema,
  ResourceGrantSchema,
  ServiceAccountSchema,
  InvitationSchema,
  MailOutboxEntrySchema,
  TeamSchema,
  TeamMembershipSchema,
  WebhookEndpointSchema,
  EmailTokenSchema,
  CustomRoleSchema,
  CustomRoleAssignmentSchema,
];
