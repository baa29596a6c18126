import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomRole, CustomRoleAssignment } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import { isCatalogueName, ROLE_CATALOGUE } from './role-catalogue.ts';
import type { GrantPath, Relationship, RelationshipFilter, RelationshipUpdate } from './types.ts';

/** The tuples a custom role's row implies: its place in the organization, and one `grants_*@user:*` per permission. */
export function customRoleTuples(role: CustomRole): Relationship[] {
  return [
    { resource: { type: 'role', id: role.id }, relation: 'organization', subject: { type: 'organization', id: role.organization.id } },
    { resource: { type: 'organization', id: role.organization.id }, relation: 'role', subject: { type: 'role', id: role.id } },
    ...role.permissions.filter(isCatalogueName).map((name) => roleGrantTuple(role.id, ROLE_CATALOGUE[name].relation)),
  ];
}

export function roleGrantTuple(roleId: string, relation: string): Relationship {
  return { resource: { type: 'role', id: roleId }, relation, subject: { type: 'user', id: '*' } };
}

function holderOf(assignment: CustomRoleAssignment): Relationship['subject'] {
  return assignment.team ? { type: 'team', id: assignment.team.id, relation: 'member' } : { type: 'user', id: assignment.user?.id ?? '' };
}

/**
 * Across the organization: role:<role>#member@<holder>. In one workspace: the binding named by the
 * assignment's id, its role, its holder, and the workspace's link to it.
 */
export function roleAssignmentTuples(assignment: CustomRoleAssignment): Relationship[] {
  if (!assignment.workspace) return [{ resource: { type: 'role', id: assignment.role.id }, relation: 'member', subject: holderOf(assignment) }];
  const binding = { type: 'role_binding', id: assignment.id };
  return [
    { resource: binding, relation: 'role', subject: { type: 'role', id: assignment.role.id } },
    { resource: binding, relation: 'member', subject: holderOf(assignment) },
    { resource: { type: 'workspace', id: assignment.workspace.id }, relation: 'role_binding', subject: binding },
  ];
}

/** Every tuple about a custom role: its own, the organization's link to it, and its bindings'. */
export function customRoleTupleFilters(role: CustomRole, bindingIds: string[]): RelationshipFilter[] {
  return [
    { resourceType: 'role', resourceId: role.id },
    { resourceType: 'organization', resourceId: role.organization.id, relation: 'role', subject: { type: 'role', id: role.id } },
    ...bindingIds.flatMap((id): RelationshipFilter[] => [
      { resourceType: 'role_binding', resourceId: id },
      { resourceType: 'workspace', relation: 'role_binding', subject: { type: 'role_binding', id } },
    ]),
  ];
}

/** The tuples of the organization's custom roles and of who holds them. */
export async function recordedRoleTuplesOf(em: EntityManager, organizationId: string): Promise<Relationship[]> {
  const roles = await em.find(CustomRole, { organization: organizationId });
  const assignments = await em.find(CustomRoleAssignment, { role: { organization: organizationId } });
  return [...roles.flatMap(customRoleTuples), ...assignments.flatMap(roleAssignmentTuples)];
}

/**
 * Deletions, before the commit, of every tuple the matching assignments imply: for a member
 * leaving the organization or a team being deleted. Read before their rows go.
 */
export async function assignmentRevocations(
  em: EntityManager,
  where: { organizationId: string; userId: string } | { teamId: string },
): Promise<RelationshipUpdate[]> {
  const assignments = await em.find(
    CustomRoleAssignment,
    'teamId' in where ? { team: where.teamId } : { user: where.userId, role: { organization: where.organizationId } },
  );
  return assignments.flatMap(roleAssignmentTuples).map((relationship) => ({ operation: 'delete', relationship }));
}

/** Every tuple of the organization's custom roles and their bindings, for deleting the organization. */
export async function organizationRoleFilters(em: EntityManager, organizationId: string): Promise<RelationshipFilter[]> {
  const roles = await em.find(CustomRole, { organization: organizationId });
  const bindings = await em.find(CustomRoleAssignment, { role: { organization: organizationId }, workspace: { $ne: null } }, { fields: ['id', 'role'] });
  return roles.flatMap((role) =>
    customRoleTupleFilters(
      role,
      bindings.filter((binding) => binding.role.id === role.id).map((binding) => binding.id),
    ),
  );
}

/** The bindings of custom roles in a workspace, for deleting the workspace (its own tuples name them). */
export async function workspaceBindingFilters(em: EntityManager, workspaceId: string): Promise<RelationshipFilter[]> {
  const bindings = await em.find(CustomRoleAssignment, { workspace: workspaceId }, { fields: ['id'] });
  return bindings.map((binding) => ({ resourceType: 'role_binding', resourceId: binding.id }));
}

/**
 * The paths with each custom role on them named (`role:<id>` and a role's `role_binding:<id>`
 * carry the role's name), so an explanation says which role granted what.
 */
export async function withRoleNames(em: EntityManager, paths: GrantPath[]): Promise<GrantPath[]> {
  const idsOf = (type: string) => [...new Set(paths.flatMap((path) => path.steps.filter((step) => step.object.type === type).map((step) => step.object.id)))];
  const roleIds = idsOf('role').filter(isCanonicalUuid);
  const bindingIds = idsOf('role_binding').filter(isCanonicalUuid);
  if (roleIds.length + bindingIds.length === 0) return paths;
  const roles = await em.find(CustomRole, { id: { $in: roleIds } }, { fields: ['name'] });
  const bindings = await em.find(CustomRoleAssignment, { id: { $in: bindingIds } }, { populate: ['role'] });
  const names = new Map<string, string>([
    ...roles.map((role): [string, string] => [`role:${role.id}`, role.name]),
    ...bindings.map((binding): [string, string] => [`role_binding:${binding.id}`, binding.role.name]),
  ]);
  return paths.map((path) => ({
    ...path,
    steps: path.steps.map((step) => {
      const name = names.get(`${step.object.type}:${step.object.id}`);
      return name === undefined ? step : { ...step, name };
    }),
  }));
}
