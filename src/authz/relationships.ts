import type { OrganizationMembership, Workspace, WorkspaceMembership } from '../db/entities/index.js';
import type { Relationship } from './spicedb.client.js';

/** The SpiceDB tuple each Postgres row implies (relationship-snapshot.ts says the same in SQL). */

/** The resource types other services own, whose parent is a workspace (`relation workspace: workspace` in schema.zed). */
export const WORKSPACE_CHILD_TYPES = ['chatbot', 'knowledge_base'] as const;

export function organizationRoleTuple(membership: OrganizationMembership): Relationship {
  return {
    resource: { type: 'organization', id: membership.organization.id },
    relation: membership.role,
    subject: { type: 'user', id: membership.user.id },
  };
}

export function workspaceParentTuple(workspace: Workspace): Relationship {
  return {
    resource: { type: 'workspace', id: workspace.id },
    relation: 'organization',
    subject: { type: 'organization', id: workspace.organization.id },
  };
}

export function workspaceRoleTuple(membership: WorkspaceMembership): Relationship {
  return {
    resource: { type: 'workspace', id: membership.workspace.id },
    relation: membership.role,
    subject: { type: 'user', id: membership.user.id },
  };
}
