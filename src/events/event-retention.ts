import type { EntityManager } from '@mikro-orm/postgresql';
import { retentionCutoff } from '../audit/audit-retention.ts';
import { PollLoop } from '../background/poll-loop.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { FeedCursor } from './event-feed.ts';

const DELETE_BATCH = 5_000;
const PRUNE_INTERVAL_MS = 3600 * 1000;

/**
 * Deletes a prefix of the feed: every event up to the newest (in feed order) that occurred before
 * `cutoff`, webhook deliveries and attempts with them. The mark goes first, in its own commit, so
 * from then on a reader at a cursor inside the prefix is told 410, never handed a page with a hole.
 * Deletes go in batches: a long transaction would hold the feed's horizon back for every reader.
 */
export async function pruneEvents(orm: Orm, cutoff: Date): Promise<{ deleted: number; through: FeedCursor | null }> {
  const em = orm.em.fork();
  const [last] = await em.execute<Array<{ transaction: string; sequence: string }>>(
    `select transaction_id::text as transaction, sequence::text as sequence from events
      where occurred_at < ? order by transaction_id desc, sequence desc limit 1`,
    [cutoff],
  );
  if (!last) return { deleted: 0, through: null };
  await em.execute(
    `update event_feed_state set pruned_through_transaction = ?::xid8, pruned_through_sequence = ?::bigint
      where (pruned_through_transaction, pruned_through_sequence) < (?::xid8, ?::bigint)`,
    [last.transaction, last.sequence, last.transaction, last.sequence],
  );
  let deleted = 0;
  for (;;) {
    const batch = await deleteBatch(em, last);
    deleted += batch;
    if (batch < DELETE_BATCH) return { deleted, through: last };
  }
}

async function deleteBatch(em: EntityManager, through: FeedCursor): Promise<number> {
  const result = await em.execute<Array<{ id: string }>>(
    `delete from events where id in (
       select id from events where (transaction_id, sequence) <= (?::xid8, ?::bigint) order by transaction_id, sequence limit ?
     ) returning id`,
    [through.transaction, through.sequence, DELETE_BATCH],
  );
  return result.length;
}

/** EVENTS_RETENTION_DAYS in the running service: a prune at boot, then hourly, on every instance (the later ones find nothing). */
export function eventRetention(orm: Orm, logger: Logger, days: number): PollLoop {
  return PollLoop.every('event retention', PRUNE_INTERVAL_MS, logger, async () => {
    const { deleted } = await pruneEvents(orm, retentionCutoff(days));
    if (deleted > 0) logger.info({ deleted, retentionDays: days }, 'pruned events past retention');
  });
}
