import { z } from 'zod';
import { uuid } from '../../http/fields.ts';
import { pageQuery } from '../../http/pagination.ts';

export const auditParams = z.strictObject({ org_id: uuid });

export const auditQuery = z.strictObject({
  limit: pageQuery.shape.limit,
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { error: 'is not a cursor this API issued' })
    .transform(Number)
    .optional(),
  action: z
    .string()
    .max(100)
    .regex(/^[a-z_]+(\.[a-z_]+)*$/, { error: 'must be a dotted action name or a prefix of one' })
    .optional(),
  actor_id: z.string().max(64).optional(),
  target_type: z.string().max(50).optional(),
  target_id: z.string().max(255).optional(),
  since: z.iso.datetime({ offset: true }).transform((text) => new Date(text)).optional(),
  until: z.iso.datetime({ offset: true }).transform((text) => new Date(text)).optional(),
});

export const auditExportQuery = auditQuery.pick({ since: true, until: true });

export const ownAuditQuery = auditQuery.pick({ limit: true, cursor: true, action: true, since: true, until: true });

export const auditEventResponse = z
  .object({
    id: z.string(),
    occurred_at: z.string(),
    organization_id: z.string().nullable(),
    position: z.number(),
    actor: z.object({ type: z.enum(['user', 'service_account', 'system']), id: z.string() }),
    on_behalf_of: z
      .union([z.object({ type: z.string(), id: z.string() }), z.string()])
      .nullable()
      .describe('The user a service account acted for, {type: "user", id}; a bare id in events recorded before that shape, which were hashed with it'),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
    request_id: z.string().nullable(),
    client_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const auditCheckpointResponse = z
  .object({
    chain: z.string().meta({ description: '`organization:<id>` or `user:<id>`' }),
    position: z.number(),
    hash: z.string().meta({ description: 'The hash of the event at `position`' }),
    signed_at: z.string(),
    key_id: z.string().meta({ description: "The RFC 7638 thumbprint of the signing key's public half" }),
    signature: z.string().meta({ description: 'The statement {chain, position, hash, signed_at} as a compact JWS (EdDSA); the rest repeats it' }),
  })
  .meta({ id: 'AuditCheckpoint' });
