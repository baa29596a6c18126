import { z } from 'zod';
import { decodeFeedCursor, type FeedCursor } from '../../events/event-feed.ts';

const TYPE_PREFIX = /^[a-z_]+(\.[a-z_]+)*$/;

export const feedQuery = z.strictObject({
  after: z
    .string()
    .max(50)
    .transform((text, ctx): FeedCursor => {
      const cursor = decodeFeedCursor(text);
      if (cursor) return cursor;
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
      return z.NEVER;
    })
    .optional()
    .meta({ description: 'Resume after this cursor (`next_cursor` of the previous page, or an event\'s `cursor`); absent: the oldest event kept' }),
  types: z
    .string()
    .max(1000)
    .transform((text) => text.split(',').map((prefix) => prefix.trim()).filter(Boolean))
    .refine((prefixes) => prefixes.length <= 20, { error: 'must list at most 20 type prefixes' })
    .refine((prefixes) => prefixes.every((prefix) => TYPE_PREFIX.test(prefix)), {
      error: 'must be comma-separated event types or dotted prefixes of them, e.g. organization.member,resource.grant',
    })
    .optional(),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int({ error: 'must be a whole number from 1 to 1000' })
    .min(1, { error: 'must be a whole number from 1 to 1000' })
    .max(1000, { error: 'must be a whole number from 1 to 1000' })
    .default(100),
});

const fieldChange = z.object({ before: z.unknown(), after: z.unknown() });

export const eventResponse = z
  .object({
    id: z.string().meta({ description: 'The event id: the audit event of the same change, and the `webhook-id` and `Nats-Msg-Id` of its deliveries' }),
    type: z.string().meta({ example: 'organization.member.added' }),
    occurred_at: z.string(),
    organization_id: z.string().nullable(),
    actor: z.object({ type: z.enum(['user', 'service_account', 'system']), id: z.string() }),
    data: z.object({
      object: z.object({ type: z.string(), id: z.string() }),
      on_behalf_of: z.object({ type: z.string(), id: z.string() }).optional(),
      changes: z.record(z.string(), fieldChange),
    }),
  })
  .meta({ id: 'Event' });

export const feedResponse = z
  .object({
    events: z.array(
      eventResponse
        .extend({ cursor: z.string().meta({ description: 'Where to resume right after this event' }) })
        .meta({ id: 'FeedEvent', description: 'An event (the body of a webhook and of a JetStream message) and its place in the feed' }),
    ),
    next_cursor: z.string().meta({ description: 'Pass as `after` for the next page; also when `events` is empty' }),
    has_more: z.boolean().meta({ description: 'More events are there now: ask again at once rather than after a pause' }),
  })
  .meta({ id: 'EventPage' });
