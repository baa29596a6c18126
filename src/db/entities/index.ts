import { Organization } from './organization.entity.js';
import { OrganizationMembership } from './organization-membership.entity.js';
import { User } from './user.entity.js';
import { Workspace } from './workspace.entity.js';
import { WorkspaceMembership } from './workspace-membership.entity.js';

export { Organization, OrganizationMembership, User, Workspace, WorkspaceMembership };

export const entities = [User, Organization, OrganizationMembership, Workspace, WorkspaceMembership];
