import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { live, Organization, OrganizationMembership, Resource, ResourceGrant, Team, TeamMembership, User, Workspace, WorkspaceMembership } from '../db/entities/index.ts';
import { recordedRoleTuplesOf } from './role-relationships.ts';
import { describeSchema, readSchema, type SchemaModel } from './schema.ts';
import type { ObjectRef, Relationship, RelationshipFilter, RelationshipUpdate } from './types.ts';

/**
 * The relationships of the graph as the service knows them: the tuple each Postgres row implies
 * (the services, reconcile and the embedded replay all use these), the types that belong to the
 * tenant API, and how tuples are keyed and found.
 */

/**
 * The resource types other services own, read from schema.zed: every definition with a
 * `relation workspace: workspace`, its one parent. Today `chatbot` and `knowledge_base`.
 */
export const SCHEMA_MODEL: SchemaModel = describeSchema(readSchema());

export const SERVICE_OWNED_TYPES: readonly string[] = [...SCHEMA_MODEL]
  .filter(([, definition]) => {
    const parents = definition.relations.get('workspace');
    return parents?.size === 1 && parents.has('workspace');
  })
  .map(([type]) => type);

/**
 * Who a direct grant may name, by subject type: the rows one must exist among, and the relation of
 * the subject set a tuple names (none for a plain user; every member of a team, nested teams
 * included, for `team#member`).
 */
export const GRANTEE_TYPES = {
  user: grantee(User),
  team: grantee(Team, 'member'),
} as const;

interface Grantee {
  entity: EntityClass<{ id: string }>;
  relation: string | undefined;
}

function grantee(entity: EntityClass<{ id: string }>, relation?: string): Grantee {
  return { entity, relation };
}

export type GranteeType = keyof typeof GRANTEE_TYPES;

export function isGranteeType(type: string): type is GranteeType {
  return Object.hasOwn(GRANTEE_TYPES, type);
}

/** The subject id of a wildcard grant: every user (public access). */
export const EVERY_USER = '*';

/**
 * Whether the schema lets a grant of `role` on `type` name the subject: the relation exists and
 * takes the subject's type, or for every user (`*`) its wildcard. A type defined like `chatbot`
 * can be shared; one without these relations cannot.
 */
export function mayGrant(model: SchemaModel, type: string, role: string, subject: { type: string; id: string }): boolean {
  const definition = model.get(type);
  const accepted = subject.id === EVERY_USER ? definition?.wildcards.get(role) : definition?.relations.get(role);
  return accepted?.has(subject.type) === true;
}

/** Types only the tenant API writes: no service account may write them or be granted them. */
export const TENANT_OWNED_TYPES: ReadonlySet<string> = new Set(['user', 'organization', 'team', 'workspace', 'mfa_registry', 'role', 'role_binding']);

/** One string per tuple, to compare and deduplicate them. */
export function tupleKey(relationship: Relationship): string {
  const { resource, relation, subject } = relationship;
  return `${resource.type}:${resource.id}#${relation}@${subject.type}:${subject.id}${subject.relation ? `#${subject.relation}` : ''}`;
}

/** Every tuple about a workspace: its own (roles, parent) and those of the resources under it. */
export function workspaceTupleFilters(workspaceId: string): RelationshipFilter[] {
  return [
    { resourceType: 'workspace', resourceId: workspaceId },
    ...SERVICE_OWNED_TYPES.map((resourceType) => ({
      resourceType,
      relation: 'workspace',
      subject: { type: 'workspace', id: workspaceId },
    })),
  ];
}

export function organizationRoleTuple(membership: OrganizationMembership): Relationship {
  return {
    resource: { type: 'organization', id: membership.organization.id },
    relation: membership.role,
    subject: { type: 'user', id: membership.user.id },
  };
}

/** Every tuple about a team: its own (parent, members) and those naming it as a subject (outer teams, workspace roles). */
export function teamTupleFilters(teamId: string): RelationshipFilter[] {
  return [
    { resourceType: 'team', resourceId: teamId },
    { resourceType: 'team', relation: 'member', subject: { type: 'team', id: teamId } },
    { resourceType: 'workspace', subject: { type: 'team', id: teamId } },
    // The custom roles it holds, across the organization or bound in a workspace.
    { resourceType: 'role', relation: 'member', subject: { type: 'team', id: teamId } },
    { resourceType: 'role_binding', relation: 'member', subject: { type: 'team', id: teamId } },
    // Its direct grants, on resources of any organization.
    ...SERVICE_OWNED_TYPES.map((resourceType) => ({ resourceType, subject: { type: 'team', id: teamId } })),
  ];
}

export function teamParentTuple(team: Team): Relationship {
  return {
    resource: { type: 'team', id: team.id },
    relation: 'organization',
    subject: { type: 'organization', id: team.organization.id },
  };
}

/** team:<team>#member@user:<user>, or @team:<member team>#member for a nested team. */
export function teamMemberTuple(membership: TeamMembership): Relationship {
  return {
    resource: { type: 'team', id: membership.team.id },
    relation: 'member',
    subject: membership.memberTeam
      ? { type: 'team', id: membership.memberTeam.id, relation: 'member' }
      : { type: 'user', id: membership.user?.id ?? '' },
  };
}

export function workspaceParentTuple(workspace: Workspace): Relationship {
  return {
    resource: { type: 'workspace', id: workspace.id },
    relation: 'organization',
    subject: { type: 'organization', id: workspace.organization.id },
  };
}

/** workspace:<workspace>#<role>@user:<user>, or @team:<team>#member for a team's role; expiring with the membership. */
export function workspaceRoleTuple(membership: WorkspaceMembership): Relationship {
  return {
    resource: { type: 'workspace', id: membership.workspace.id },
    relation: membership.role,
    subject: membership.team ? { type: 'team', id: membership.team.id, relation: 'member' } : { type: 'user', id: membership.user?.id ?? '' },
    ...(membership.expiresAt && { expiresAt: membership.expiresAt }),
  };
}

/** A service-owned resource's one parent: `<type>:<id>#workspace@workspace:<workspace>`. */
export function resourceParentTuple(resource: { type: string; id: string; workspaceId: string }): Relationship {
  return {
    resource: { type: resource.type, id: resource.id },
    relation: 'workspace',
    subject: { type: 'workspace', id: resource.workspaceId },
  };
}

/** A direct grant's tuple `<type>:<id>#<role>@<subject>`, carrying its expiry. */
export function resourceGrantTuple(grant: ResourceGrant): Relationship {
  const relation = isGranteeType(grant.subjectType) ? GRANTEE_TYPES[grant.subjectType].relation : undefined;
  return {
    resource: { type: grant.resourceType, id: grant.resourceId },
    relation: grant.role,
    subject: { type: grant.subjectType, id: grant.subjectId, ...(relation && { relation }) },
    ...(grant.expiresAt && { expiresAt: grant.expiresAt }),
  };
}

/**
 * The resources under these workspaces that carry direct grants. A grant tuple names no
 * workspace, so a filter on the parent cannot reach it: deleting a workspace names each of these
 * resources. Read before the workspaces' rows go (their resources and grants go by cascade).
 */
export async function sharedResourcesUnder(em: EntityManager, workspaceIds: string[]): Promise<ObjectRef[]> {
  if (workspaceIds.length === 0) return [];
  const rows = await em.execute<Array<{ type: string; id: string }>>(
    `select distinct r.type, r.id from resources r
       join resource_grants g on g.resource_type = r.type and g.resource_id = r.id
      where r.workspace_id = any(?::uuid[])`,
    [`{${workspaceIds.join(',')}}`],
  );
  return rows.map(({ type, id }) => ({ type, id }));
}

/** The organization's grants still in force: an expired one implies no tuple (SpiceDB no longer counts it). */
async function liveGrantsOf(em: EntityManager, organizationId: string): Promise<ResourceGrant[]> {
  const rows = await em.execute<Array<Record<string, unknown>>>(
    `select g.* from resource_grants g
       join resources r on r.type = g.resource_type and r.id = g.resource_id
      where r.organization_id = ? and (g.expires_at is null or g.expires_at > now())`,
    [organizationId],
  );
  return rows.map((row) => em.map(ResourceGrant, row));
}

/** The one object every user with a confirmed second factor is `enrolled` on. */
const MFA_REGISTRY = { type: 'mfa_registry', id: 'enrolled' };

/** `mfa_registry:enrolled#enrolled@user:<id>`: the user has a confirmed second factor. */
export function mfaEnrolmentTuple(userId: string): Relationship {
  return { resource: MFA_REGISTRY, relation: 'enrolled', subject: { type: 'user', id: userId } };
}

/** The tuples of an organization that requires a second factor: its roles then count only for enrolled users. */
export function mfaRequirementTuples(organizationId: string): Relationship[] {
  const organization = { type: 'organization', id: organizationId };
  return [
    { resource: organization, relation: 'mfa_required', subject: { type: 'user', id: EVERY_USER } },
    { resource: organization, relation: 'mfa_registry', subject: MFA_REGISTRY },
  ];
}

/** Every tuple the organization's rows imply. Queries run one after another: they may share a transaction's connection. */
export async function recordedTuplesOf(em: EntityManager, organizationId: string): Promise<Relationship[]> {
  const organization = await em.findOne(Organization, { id: organizationId });
  const memberships = await em.find(OrganizationMembership, { organization: organizationId });
  const workspaces = await em.find(Workspace, { organization: organizationId });
  // An expired membership implies no tuple: SpiceDB no longer holds it either.
  const workspaceMemberships = await em.find(WorkspaceMembership, { workspace: { organization: organizationId }, ...live() });
  const resources = await em.find(Resource, { organizationId });
  const grants = await liveGrantsOf(em, organizationId);
  const teams = await em.find(Team, { organization: organizationId });
  const teamMemberships = await em.find(TeamMembership, { team: { organization: organizationId } });
  const roleTuples = await recordedRoleTuplesOf(em, organizationId);
  return [
    ...(organization?.requireMfa ? mfaRequirementTuples(organizationId) : []),
    ...memberships.map(organizationRoleTuple),
    ...teams.map(teamParentTuple),
    ...teamMemberships.map(teamMemberTuple),
    ...workspaces.map(workspaceParentTuple),
    ...workspaceMemberships.map(workspaceRoleTuple),
    ...resources.map(resourceParentTuple),
    ...grants.map(resourceGrantTuple),
    ...roleTuples,
  ];
}

/**
 * When access ends, for comparing expiries: never is latest. A sooner end takes access away (a
 * revocation, written before the commit); a later one gives it (a grant, after).
 */
export function endOf(expiresAt: Date | null): number {
  return expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
}

/** A role moving from one tuple to another: DELETE old + TOUCH new, for one atomic write. */
export function roleChange(before: Relationship, after: Relationship): RelationshipUpdate[] {
  return [
    { operation: 'delete', relationship: before },
    { operation: 'touch', relationship: after },
  ];
}
