import { LoginFailure } from './login-failure.entity.js';
import { Organization } from './organization.entity.js';
export { SUBSCRIPTION_TIERS, type SubscriptionTier } from './organization.entity.js';
export { ORGANIZATION_ROLES, type OrganizationRole } from './organization-membership.entity.js';
export { WORKSPACE_ROLES, type WorkspaceRole } from './workspace-membership.entity.js';
import { OrganizationMembership } from './organization-membership.entity.js';
import { RefreshToken } from './refresh-token.entity.js';
import { RelationshipOutboxEntry } from './relationship-outbox-entry.entity.js';
import { ServiceAccount } from './service-account.entity.js';
import { SigningKey } from './signing-key.entity.js';
import { User } from './user.entity.js';
import { Workspace } from './workspace.entity.js';
import { WorkspaceMembership } from './workspace-membership.entity.js';

export {
  LoginFailure,
  Organization,
  OrganizationMembership,
  RefreshToken,
  RelationshipOutboxEntry,
  ServiceAccount,
  SigningKey,
  User,
  Workspace,
  WorkspaceMembership,
};

export const entities = [
  User,
  Organization,
  OrganizationMembership,
  Workspace,
  WorkspaceMembership,
  SigningKey,
  RefreshToken,
  LoginFailure,
  RelationshipOutboxEntry,
  ServiceAccount,
];
