import { PERMISSIONS, type PermissionName } from './permissions.ts';

/**
 * The permissions a custom role may grant, by the registry names people know (`org:billing`,
 * `workspace:view`). Each is a `grants_<...>` relation of schema.zed's role definition, so the
 * catalogue is schema and a role is data. Never the owner's (org:delete, org:billing_update,
 * org:transfer_ownership), nor org:view (a role is held by members, who see the organization).
 *
 * `acrossOrganization` is the permission the grant amounts to across the organization: the one an
 * actor must hold to give it to someone (no escalation), asked of SpiceDB. A workspace permission
 * held across the organization is the organization's `*_workspaces` permission; in one workspace
 * (a role bound there) it is the workspace permission itself, `inWorkspace`.
 */
export interface CataloguePermission {
  relation: string;
  acrossOrganization: PermissionName;
  inWorkspace: PermissionName | null;
  description: string;
}

function organizationGrant(name: PermissionName & `org:${string}`): CataloguePermission {
  return { relation: `grants_${PERMISSIONS[name].permission}`, acrossOrganization: name, inWorkspace: null, description: PERMISSIONS[name].description };
}

function workspaceGrant(name: PermissionName & `workspace:${string}`, acrossOrganization: PermissionName): CataloguePermission {
  return {
    relation: `grants_workspace_${PERMISSIONS[name].permission}`,
    acrossOrganization,
    inWorkspace: name,
    description: `${PERMISSIONS[name].description} (in every workspace, or in the one a role is bound to)`,
  };
}

export const ROLE_CATALOGUE = {
  'org:update': organizationGrant('org:update'),
  'org:invite': organizationGrant('org:invite'),
  'org:update_member': organizationGrant('org:update_member'),
  'org:remove_member': organizationGrant('org:remove_member'),
  'org:billing': organizationGrant('org:billing'),
  'org:audit_log': organizationGrant('org:audit_log'),
  'org:create_workspace': organizationGrant('org:create_workspace'),
  'org:manage_teams': organizationGrant('org:manage_teams'),
  'org:manage_roles': organizationGrant('org:manage_roles'),
  'workspace:view': workspaceGrant('workspace:view', 'org:view_workspaces'),
  'workspace:edit': workspaceGrant('workspace:edit', 'org:edit_workspaces'),
  'workspace:update': workspaceGrant('workspace:update', 'org:update_workspaces'),
  'workspace:delete': workspaceGrant('workspace:delete', 'org:delete_workspaces'),
  'workspace:manage_members': workspaceGrant('workspace:manage_members', 'org:manage_workspace_members'),
} as const satisfies Record<string, CataloguePermission>;

export type CatalogueName = keyof typeof ROLE_CATALOGUE;

export const CATALOGUE_NAMES = Object.keys(ROLE_CATALOGUE) as CatalogueName[];

export function isCatalogueName(name: string): name is CatalogueName {
  return Object.hasOwn(ROLE_CATALOGUE, name);
}
