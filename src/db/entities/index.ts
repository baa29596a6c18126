import { LoginFailure } from './login-failure.entity.js';
import { Organization } from './organization.entity.js';
import { OrganizationMembership } from './organization-membership.entity.js';
import { RefreshToken } from './refresh-token.entity.js';
import { RelationshipOutboxEntry } from './relationship-outbox-entry.entity.js';
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
];
