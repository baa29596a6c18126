import { z } from 'zod';
import { uuid } from '../../http/fields.ts';
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
