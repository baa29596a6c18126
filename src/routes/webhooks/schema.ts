import { z } from 'zod';
import { text, uuid } from '../../http/fields.ts';

const TYPE_PREFIX = /^[a-z_]+(\.[a-z_]+)*$/;

export const endpointParams = z.strictObject({ endpoint_id: uuid });

const eventTypes = z
  .array(z.string().max(100).regex(TYPE_PREFIX, { error: 'must be an event type or a dotted prefix of one, e.g. organization.member' }))
  .min(1, { error: 'must list at least one type prefix, or be null for every type' })
  .max(50)
  .nullable()
  .meta({ description: 'Event types or dotted prefixes of them (`organization.member` selects `organization.member.added`); null: every type' });

const organizationIds = z
  .array(uuid)
  .min(1, { error: 'must name at least one organization, or be null for all' })
  .max(100)
  .nullable()
  .meta({ description: "Only these organizations' events; null: every organization the service account may read" });

const url = z.string().max(2048).meta({ description: 'http(s) URL; on a public address unless WEBHOOK_ALLOW_PRIVATE_URLS', example: 'https://chat.example.com/hooks/tenant-authz' });

export const newEndpointBody = z.strictObject({
  url,
  description: text(500).nullable().optional(),
  event_types: eventTypes.optional(),
  organization_ids: organizationIds.optional(),
});

export const endpointChangesBody = z.strictObject({
  url: url.optional(),
  description: text(500).nullable().optional(),
  event_types: eventTypes.optional(),
  organization_ids: organizationIds.optional(),
  enabled: z.boolean().optional().meta({ description: 'false disables it (pending deliveries are given up); true enables it again' }),
});

export const rotateSecretBody = z.strictObject({
  overlap_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600, { error: 'must be at most 604800 (7 days)' })
    .default(24 * 3600)
    .meta({ description: 'How long the old secret keeps signing beside the new one (default a day); 0 ends it now' }),
});

export const resendBody = z.strictObject({ event_id: uuid });

export const attemptsQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 200' })
    .int({ error: 'must be a whole number from 1 to 200' })
    .min(1, { error: 'must be a whole number from 1 to 200' })
    .max(200, { error: 'must be a whole number from 1 to 200' })
    .default(50),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, { error: 'is not a cursor this API issued' }).transform(Number).optional(),
});

export const endpointResponse = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()).nullable(),
    organization_ids: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: z.string().nullable(),
    failing_since: z.string().nullable().meta({ description: 'Every delivery has failed since then; after WEBHOOK_DISABLE_AFTER_DAYS the endpoint is disabled' }),
    previous_secret_expires_at: z.string().nullable().meta({ description: 'Until then deliveries carry a second signature, made with the secret before the last rotation' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointWithSecretResponse = endpointResponse
  .extend({ secret: z.string().meta({ description: 'whsec_…: shown only now; verify each delivery with it (Standard Webhooks)' }) })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const attemptResponse = z
  .object({
    id: z.string(),
    event_id: z.string(),
    attempted_at: z.string(),
    duration_ms: z.number().int(),
    outcome: z.enum(['delivered', 'failed', 'gone']),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    response_body: z.string().nullable().meta({ description: 'The first KiB of what the endpoint answered' }),
  })
  .meta({ id: 'WebhookAttempt' });
