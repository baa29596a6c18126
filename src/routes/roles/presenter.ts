import { isCatalogueName } from '../../authz/role-catalogue.ts';
import type { CustomRole, CustomRoleAssignment } from '../../db/entities/index.ts';

export function presentRole(role: CustomRole) {
  return {
    id: role.id,
    organization_id: role.organization.id,
    name: role.name,
    description: role.description,
    permissions: role.permissions.filter(isCatalogueName),
    created_at: role.createdAt.toISOString(),
    updated_at: role.updatedAt.toISOString(),
  };
}

export function presentRoleAssignment(assignment: CustomRoleAssignment) {
  return {
    id: assignment.id,
    role_id: assignment.role.id,
    role_name: assignment.role.name,
    holder: assignment.team ? { type: 'team' as const, id: assignment.team.id } : { type: 'user' as const, id: assignment.user?.id ?? '' },
    workspace_id: assignment.workspace?.id ?? null,
    created_at: assignment.createdAt.toISOString(),
  };
}

export function presentHeldRole(assignment: CustomRoleAssignment) {
  return { id: assignment.role.id, name: assignment.role.name, workspace_id: assignment.workspace?.id ?? null };
}
