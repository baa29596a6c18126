import type { EntityManager } from '@mikro-orm/postgresql';
import type { CycleOutcome } from '../background/poll-loop.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import { compareCursors, FEED_START, newestWithinHorizon, prunedThrough, readFeedBatch, type FeedCursor, type FeedEvent } from './event-feed.ts';

/** How far a handler got through a batch, in order; a failure after `done` events is retried from there. */
export interface Handled {
  done: number;
  failure?: unknown;
}

export interface FeedFollowerOptions {
  /** The row in event_sinks that keeps this follower's place. */
  sink: string;
  batchSize: number;
  /** Handles events in feed order, inside the transaction that will move the cursor past them. */
  handle: (events: FeedEvent[], em: EntityManager) => Promise<Handled>;
}

/**
 * Follows the feed from a cursor kept in Postgres (event_sinks), for what must see every event
 * once and in order: the webhook fan-out and the JetStream publisher. One instance at a time
 * follows a sink (a transaction-scoped advisory lock, which takes no transaction id, so holding it
 * never holds the feed's horizon back); the others find it taken and wait for their next cycle.
 * A crash before the cursor moves hands the same events to the next cycle: at least once.
 */
export class FeedFollower {
  private readonly orm: Orm;
  private readonly logger: Logger;
  private readonly options: FeedFollowerOptions;

  constructor(orm: Orm, logger: Logger, options: FeedFollowerOptions) {
    this.orm = orm;
    this.logger = logger;
    this.options = options;
  }

  /** Creates the sink at the feed's newest event if it has none: a follower starts with what happens from now on. */
  async ensureSink(): Promise<void> {
    const em = this.orm.em.fork();
    const start = (await newestWithinHorizon(em)) ?? FEED_START;
    await em.execute(
      'insert into event_sinks (name, transaction_id, sequence) values (?, ?::xid8, ?::bigint) on conflict (name) do nothing',
      [this.options.sink, start.transaction, start.sequence],
    );
  }

  /** One batch: `more` when it was full. A handler's failure is thrown after the progress before it is kept. */
  async cycle(): Promise<CycleOutcome> {
    // Most polls find nothing: they ask in one statement, without opening a transaction.
    if (!(await this.behind())) return 'idle';
    let failure: unknown;
    const outcome = await this.orm.em.fork().transactional(async (em): Promise<CycleOutcome> => {
      const [locked] = await em.execute<Array<{ locked: boolean }>>('select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked', [
        `event-sink:${this.options.sink}`,
      ]);
      if (!locked?.locked) return 'idle';
      const cursor = await this.position(em);
      const events = await readFeedBatch(em, cursor, this.options.batchSize);
      if (events.length === 0) return 'idle';
      const handled = await this.options.handle(events, em);
      failure = handled.failure;
      const last = events[handled.done - 1];
      if (last) await this.moveTo(em, last.cursor);
      return handled.done === this.options.batchSize && !failure ? 'more' : 'idle';
    });
    if (failure) throw failure;
    return outcome;
  }

  /** Whether the feed shows an event past the sink's cursor. */
  private async behind(): Promise<boolean> {
    const [row] = await this.orm.em.fork().execute<Array<{ behind: boolean }>>(
      `select exists (
         select 1 from events e, event_sinks s
          where s.name = ? and (e.transaction_id, e.sequence) > (s.transaction_id, s.sequence)
            and e.transaction_id < (select events_horizon())) as behind`,
      [this.options.sink],
    );
    return row?.behind === true;
  }

  /** The sink's cursor; past retention's mark if retention deleted events it had not reached (logged: they are lost to it). */
  private async position(em: EntityManager): Promise<FeedCursor> {
    const [row] = await em.execute<Array<{ transaction: string; sequence: string }>>(
      'select transaction_id::text as transaction, sequence::text as sequence from event_sinks where name = ?',
      [this.options.sink],
    );
    const cursor = row ?? FEED_START;
    const pruned = await prunedThrough(em);
    if (compareCursors(cursor, pruned) >= 0) return cursor;
    this.logger.error({ sink: this.options.sink }, 'events were deleted by retention before this sink reached them; it goes on from the oldest kept');
    return pruned;
  }

  private async moveTo(em: EntityManager, cursor: FeedCursor): Promise<void> {
    await em.execute(
      `insert into event_sinks (name, transaction_id, sequence, updated_at) values (?, ?::xid8, ?::bigint, now())
       on conflict (name) do update set transaction_id = excluded.transaction_id, sequence = excluded.sequence, updated_at = now()`,
      [this.options.sink, cursor.transaction, cursor.sequence],
    );
  }
}
