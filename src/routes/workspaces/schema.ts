import { z } from 'zod';
import { PERMISSION_NAMES } from '../../authz/permissions.ts';
import { WORKSPACE_ROLES } from '../../db/entities/index.ts';
import { descriptionText, displayName, expiresAt, uuid } from '../../http/fields.ts';
import { memberSubject } from '../teams/schema.ts';

const name = displayName;
const description = descriptionText.nullable();
const role = z.enum(WORKSPACE_ROLES, { error: `must be one of ${WORKSPACE_ROLES.join(', ')}` });

export const organizationWorkspacesParams = z.strictObject({ org_id: uuid });
export const workspaceParams = z.strictObject({ workspace_id: uuid });
export const workspaceMemberParams = z.strictObject({ workspace_id: uuid, member_id: uuid.meta({ description: 'The id of the member: a user or a team' }) });

export const createWorkspaceBody = z
  .strictObject({ name, description: description.optional() })
  .meta({ id: 'CreateWorkspaceRequest' });
export const updateWorkspaceBody = z
  .strictObject({ name: name.optional(), description: description.optional() })
  .meta({ id: 'UpdateWorkspaceRequest' });
export const addWorkspaceMemberBody = z
  .strictObject({
    user_id: uuid.optional(),
    team_id: uuid.optional(),
    role,
    expires_at: expiresAt.optional().meta({
      description: 'When the membership ends (RFC 3339, in the future, at most a year away): checks deny from then on, with no job running, and it leaves the lists',
    }),
  })
  .refine((body) => (body.user_id === undefined) !== (body.team_id === undefined), { error: 'must have exactly one of user_id and team_id' })
  .meta({
    id: 'AddWorkspaceMemberRequest',
    description: 'A member of the organization ({user_id, role}) or one of its teams ({team_id, role}: every member of the team, nested teams included, holds the role)',
  });
export const changeWorkspaceMemberBody = z
  .strictObject({
    role: role.optional(),
    expires_at: expiresAt.nullable().optional().meta({ description: 'A new end of the membership; null: it no longer ends' }),
  })
  .refine((body) => body.role !== undefined || body.expires_at !== undefined, { error: 'must change role, expires_at or both' })
  .meta({ id: 'ChangeWorkspaceMemberRequest' });

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
    subject: memberSubject,
    user_id: z.uuid().optional().meta({ description: "The user's id, for a user's membership" }),
    team_id: z.uuid().optional().meta({ description: "The team's id, for a team's membership" }),
    role: z.enum(WORKSPACE_ROLES),
    expires_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'WorkspaceMemberResponse' });

export const workspaceMemberListItem = workspaceMemberResponse
  .extend({ username: z.string().optional(), email: z.string().optional(), name: z.string().optional() })
  .meta({ id: 'WorkspaceMemberListItem', description: 'username and email for a user, name for a team (also in subject)' });

export const workspacePermissionsResponse = z
  .object({
    organization_id: z.uuid(),
    workspace_id: z.uuid(),
    permissions: z.array(z.enum(PERMISSION_NAMES as [string, ...string[]])),
  })
  .meta({ id: 'WorkspacePermissionsResponse' });
