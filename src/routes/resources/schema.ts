import { z } from 'zod';
import { EVERY_USER, GRANTEE_TYPES, type GranteeType } from '../../authz/relationships.ts';
import { GRANT_ROLES } from '../../db/entities/index.ts';
import { expiresAt, uuid } from '../../http/fields.ts';
import { objectId, objectType, onBehalfOf } from '../authz/schema.ts';

/** `type` is one of schema.zed's service-owned types (422 otherwise); `id` uses SpiceDB's object id alphabet. */
export const resourceParams = z.strictObject({ type: objectType, id: objectId });

export const registerResourceBody = z
  .strictObject({
    parent: z.strictObject({ type: z.literal('workspace'), id: uuid }),
    on_behalf_of: onBehalfOf.optional(),
  })
  .meta({ id: 'RegisterResourceRequest' });

export const deleteResourceQuery = z.strictObject({
  on_behalf_of: z
    .string()
    .regex(/^user:[0-9a-fA-F-]{36}$/, { error: 'must be user:<user id>' })
    .transform((value) => value.slice('user:'.length).toLowerCase())
    .pipe(uuid)
    .optional(),
});

export const resourceResponse = z
  .object({
    type: z.string(),
    id: z.string(),
    parent: z.object({ type: z.literal('workspace'), id: z.uuid() }),
    organization_id: z.uuid(),
    registered_by: z.object({
      service_account_id: z.uuid(),
      on_behalf_of: z.object({ type: z.literal('user'), id: z.uuid() }).nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Resource' });

const GRANTEE_TYPE_NAMES = Object.keys(GRANTEE_TYPES) as [GranteeType, ...GranteeType[]];

/**
 * Who a grant names: a user or a team (its members) by id, or every user (`{type: "user", id: "*"}`,
 * public access, viewer only).
 */
const grantee = z
  .strictObject({
    type: z.enum(GRANTEE_TYPE_NAMES),
    id: z.union([z.literal(EVERY_USER), uuid], { error: 'must be a user or team id, or * for every user' }),
  })
  .meta({ id: 'Grantee' });

const grantRole = z.enum(GRANT_ROLES);

export const grantBody = z
  .strictObject({
    subject: grantee,
    role: grantRole,
    expires_at: expiresAt.optional(),
    on_behalf_of: onBehalfOf.optional(),
  })
  .meta({ id: 'GrantRequest' });

export const revokeBody = z
  .strictObject({ subject: grantee, role: grantRole, on_behalf_of: onBehalfOf.optional() })
  .meta({ id: 'RevokeRequest' });

export const grantResponse = z
  .object({
    subject: z.object({ type: z.string(), id: z.string() }),
    role: grantRole,
    expires_at: z.string().nullable(),
    granted_by: z.object({
      service_account_id: z.uuid(),
      on_behalf_of: z.object({ type: z.literal('user'), id: z.uuid() }).nullable(),
    }),
    created_at: z.string(),
  })
  .meta({ id: 'Grant' });
