import { z } from 'zod';
import { CATALOGUE_NAMES } from '../../authz/role-catalogue.ts';
import { descriptionText, displayName, uuid } from '../../http/fields.ts';

const description = descriptionText.nullable();
// Any string: an unknown name answers 422 naming it (the service), not a bare enum mismatch.
const permissions = z
  .array(z.string().max(100))
  .max(CATALOGUE_NAMES.length * 2)
  .meta({ description: `Permissions from GET /api/v1/orgs/{org_id}/roles/catalogue: ${CATALOGUE_NAMES.join(', ')}` });

export const organizationRolesParams = z.strictObject({ org_id: uuid });
export const roleParams = z.strictObject({ role_id: uuid });
export const memberRoleParams = z.strictObject({ org_id: uuid, user_id: uuid, role_id: uuid });
export const teamRoleParams = z.strictObject({ team_id: uuid, role_id: uuid });
export const workspaceMemberRoleParams = z.strictObject({ workspace_id: uuid, user_id: uuid, role_id: uuid });

export const createRoleBody = z
  .strictObject({ name: displayName, description: description.optional(), permissions })
  .meta({ id: 'CreateCustomRoleRequest' });
export const updateRoleBody = z
  .strictObject({ name: displayName.optional(), description: description.optional(), permissions: permissions.optional() })
  .meta({ id: 'UpdateCustomRoleRequest' });

export const roleResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.enum(CATALOGUE_NAMES)),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'CustomRoleResponse' });

export const catalogueResponse = z
  .array(z.object({ name: z.enum(CATALOGUE_NAMES), description: z.string() }))
  .meta({ id: 'CustomRoleCatalogue' });

export const roleAssignmentResponse = z
  .object({
    id: z.uuid(),
    role_id: z.uuid(),
    role_name: z.string(),
    holder: z.object({ type: z.enum(['user', 'team']), id: z.uuid() }),
    workspace_id: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'CustomRoleAssignmentResponse' });

/** A custom role as the member list shows it: where it is held (null: across the organization). */
export const heldCustomRole = z
  .object({ id: z.uuid(), name: z.string(), workspace_id: z.uuid().nullable() })
  .meta({ id: 'HeldCustomRole' });
