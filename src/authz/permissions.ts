/**
 * The permission registry: the only place that spells SpiceDB permission names. Routes, tokens and
 * the check API speak registry names (`org:invite`); this maps each to its schema.zed definition
 * and permission. A boot check and a test keep it and schema.zed in one-to-one agreement.
 */

export interface PermissionDefinition {
  resourceType: string;
  permission: string;
  description: string;
}

export const PERMISSIONS = {
  'org:view': { resourceType: 'organization', permission: 'view', description: 'See the organization and its members' },
  'org:update': { resourceType: 'organization', permission: 'update', description: 'Rename the organization' },
  'org:invite': { resourceType: 'organization', permission: 'invite', description: 'Add members' },
  'org:update_member': { resourceType: 'organization', permission: 'update_member', description: "Change a member's role" },
  'org:remove_member': { resourceType: 'organization', permission: 'remove_member', description: 'Remove members' },
  'org:billing': { resourceType: 'organization', permission: 'billing', description: 'See billing and usage' },
  'org:audit_log': { resourceType: 'organization', permission: 'audit_log', description: 'Read and export the audit log' },
  'org:create_workspace': { resourceType: 'organization', permission: 'create_workspace', description: 'Create workspaces' },
  'org:manage_teams': { resourceType: 'organization', permission: 'manage_teams', description: 'Create, rename and delete teams' },
  'org:manage_roles': { resourceType: 'organization', permission: 'manage_roles', description: 'Define, change, assign and delete custom roles' },
  'org:view_workspaces': { resourceType: 'organization', permission: 'view_workspaces', description: 'See every workspace of the organization' },
  'org:edit_workspaces': { resourceType: 'organization', permission: 'edit_workspaces', description: "Change every workspace's content" },
  'org:update_workspaces': { resourceType: 'organization', permission: 'update_workspaces', description: 'Rename or describe every workspace' },
  'org:delete_workspaces': { resourceType: 'organization', permission: 'delete_workspaces', description: 'Delete any workspace' },
  'org:manage_workspace_members': {
    resourceType: 'organization',
    permission: 'manage_workspace_members',
    description: 'Add, re-role and remove members of every workspace',
  },
  'org:delete': { resourceType: 'organization', permission: 'delete', description: 'Delete the organization' },
  'org:billing_update': { resourceType: 'organization', permission: 'billing_update', description: 'Change the billing email' },
  'org:transfer_ownership': { resourceType: 'organization', permission: 'transfer_ownership', description: 'Hand ownership to another member' },

  'team:view': { resourceType: 'team', permission: 'view', description: 'See the team and its members' },
  'team:manage_members': { resourceType: 'team', permission: 'manage_members', description: 'Add and remove team members' },

  'workspace:view': { resourceType: 'workspace', permission: 'view', description: 'See the workspace and its members' },
  'workspace:edit': { resourceType: 'workspace', permission: 'edit', description: "Change the workspace's content" },
  'workspace:update': { resourceType: 'workspace', permission: 'update', description: 'Rename or describe the workspace' },
  'workspace:delete': { resourceType: 'workspace', permission: 'delete', description: 'Delete the workspace' },
  'workspace:manage_members': { resourceType: 'workspace', permission: 'manage_members', description: 'Add, re-role and remove workspace members' },

  'chatbot:view': { resourceType: 'chatbot', permission: 'view', description: 'Use the chatbot' },
  'chatbot:edit': { resourceType: 'chatbot', permission: 'edit', description: 'Change the chatbot' },
  'chatbot:share': { resourceType: 'chatbot', permission: 'share', description: 'Grant and revoke direct access to the chatbot' },
  'chatbot:delete': { resourceType: 'chatbot', permission: 'delete', description: 'Delete the chatbot' },
  'chatbot:move': { resourceType: 'chatbot', permission: 'move', description: 'Move the chatbot out of its workspace' },

  'knowledge_base:view': { resourceType: 'knowledge_base', permission: 'view', description: 'Read the knowledge base' },
  'knowledge_base:edit': { resourceType: 'knowledge_base', permission: 'edit', description: 'Change the knowledge base' },
  'knowledge_base:share': { resourceType: 'knowledge_base', permission: 'share', description: 'Grant and revoke direct access to the knowledge base' },
  'knowledge_base:delete': { resourceType: 'knowledge_base', permission: 'delete', description: 'Delete the knowledge base' },
  'knowledge_base:move': { resourceType: 'knowledge_base', permission: 'move', description: 'Move the knowledge base out of its workspace' },
} as const satisfies Record<string, PermissionDefinition>;

export type PermissionName = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as PermissionName[];

export function isPermissionName(name: string): name is PermissionName {
  return Object.hasOwn(PERMISSIONS, name);
}

/** The registry names whose permission lives on `resourceType`, in registry order. */
export function permissionsOn(resourceType: string): PermissionName[] {
  return PERMISSION_NAMES.filter((name) => PERMISSIONS[name].resourceType === resourceType);
}
