import { z } from 'zod';
import { PERMISSION_NAMES } from '../../authz/permissions.ts';
import { WORKSPACE_ROLES } from '../../db/entities/index.ts';
import { displayName, text, uuid } from '../../http/fields.ts';

const name = displayName;
const description = text(2000).nullable();
const role = z.enum(WORKSPACE_ROLES, { error: `must be one of ${WORKSPACE_ROLES.join(', ')}` });

export const organizationWorkspacesParams = z.strictObject({ org_id: uuid });
export const workspaceParams = z.strictObject({ workspace_id: uuid });
export const workspaceMemberParams = z.strictObject({ workspace_id: uuid, user_id: uuid });

export const createWorkspaceBody = z
  .strictObject({ name, description: description.optional() })
  .meta({ id: 'CreateWorkspaceRequest' });
export const updateWorkspaceBody = z
  .strictObject({ name: name.optional(), description: description.optional() })
  .meta({ id: 'UpdateWorkspaceRequest' });
export const addWorkspaceMemberBody = z.strictObject({ user_id: uuid, role }).meta({ id: 'AddWorkspaceMemberRequest' });
export const changeWorkspaceMemberRoleBody = z.strictObject({ role }).meta({ id: 'ChangeWorkspaceMemberRoleRequest' });

export const workspaceResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    role: z.enum(WORKSPACE_ROLES).nullable(),
  })
  .meta({ id: 'WorkspaceResponse' });

export const workspaceMemberResponse = z
  .object({
    id: z.uuid(),
    workspace_id: z.uuid(),
    user_id: z.uuid(),
    role: z.enum(WORKSPACE_ROLES),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'WorkspaceMemberResponse' });

export const workspaceMemberListItem = workspaceMemberResponse
  .extend({ username: z.string(), email: z.string() })
  .meta({ id: 'WorkspaceMemberListItem' });

export const workspacePermissionsResponse = z
  .object({
    organization_id: z.uuid(),
    workspace_id: z.uuid(),
    permissions: z.array(z.enum(PERMISSION_NAMES as [string, ...string[]])),
  })
  .meta({ id: 'WorkspacePermissionsResponse' });
