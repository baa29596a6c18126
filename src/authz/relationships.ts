import type { EntityManager } from '@mikro-orm/postgresql';
import { OrganizationMembership, Workspace, WorkspaceMembership } from '../db/entities/index.ts';
import type { Relationship, RelationshipUpdate } from './types.ts';

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

/** Every tuple the organization's rows imply. Queries run one after another: they may share a transaction's connection. */
export async function recordedTuplesOf(em: EntityManager, organizationId: string): Promise<Relationship[]> {
  const memberships = await em.find(OrganizationMembership, { organization: organizationId });
  const workspaces = await em.find(Workspace, { organization: organizationId });
  const workspaceMemberships = await em.find(WorkspaceMembership, { workspace: { organization: organizationId } });
  return [
    ...memberships.map(organizationRoleTuple),
    ...workspaces.map(workspaceParentTuple),
    ...workspaceMemberships.map(workspaceRoleTuple),
  ];
}

/** A role moving from one tuple to another: DELETE old + TOUCH new, for one atomic write. */
export function roleChange(before: Relationship, after: Relationship): RelationshipUpdate[] {
  return [
    { operation: 'delete', relationship: before },
    { operation: 'touch', relationship: after },
  ];
}
