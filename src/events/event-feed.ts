import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActorType } from '../audit/audit-chain.ts';
import { postgresArray } from '../db/postgres-array.ts';
import type { EventData, OutwardEvent } from './event-log.ts';

/**
 * The ordered feed of events, the one source the API, the webhook fan-out and the JetStream
 * publisher all read.
 *
 * The trap: positions taken at insert time commit out of order. A transaction that took place 9
 * and commits after another took and committed place 10 would be missed by a reader that had
 * seen 10 and asked for what comes after it. So the feed orders events by the id of the
 * transaction that wrote them (then by a sequence within it) and shows only events whose
 * transaction is older than every transaction of this database still in flight in the reading
 * statement's snapshot (`events_horizon()`: `pg_snapshot_xmin` less other databases' transactions,
 * whose ids share the server's counter but which cannot write here). Any transaction that commits
 * later has an id at least that horizon, so it sorts after everything a reader has been shown. The
 * price: a long transaction in this database holds the feed back (never loses it) until it ends.
 *
 * Per organization, the order is the order of its changes: each change takes the organization's
 * row lock as its first write, so a later change has a later transaction id.
 */

/** A place in the feed: the writing transaction's id and the row's sequence number, both decimal text. */
export interface FeedCursor {
  transaction: string;
  sequence: string;
}

export const FEED_START: FeedCursor = { transaction: '0', sequence: '0' };

const CURSOR_PATTERN = /^([0-9]{1,20})\.([0-9]{1,20})$/;

/** Opaque to readers: `<transaction>.<sequence>`. */
export function encodeFeedCursor(cursor: FeedCursor): string {
  return `${cursor.transaction}.${cursor.sequence}`;
}

export function decodeFeedCursor(text: string): FeedCursor | null {
  const match = CURSOR_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) return null;
  return { transaction: BigInt(match[1]).toString(), sequence: BigInt(match[2]).toString() };
}

export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  const transaction = BigInt(a.transaction) - BigInt(b.transaction);
  if (transaction !== 0n) return transaction < 0n ? -1 : 1;
  const sequence = BigInt(a.sequence) - BigInt(b.sequence);
  return sequence === 0n ? 0 : sequence < 0n ? -1 : 1;
}

export interface FeedEvent extends OutwardEvent {
  cursor: FeedCursor;
}

export interface FeedQuery {
  /** null: from the oldest event kept. */
  after: FeedCursor | null;
  /** Type prefixes (whole dotted segments); null: every type. */
  types: readonly string[] | null;
  /** The organizations whose events to show; null: every event, also those of no organization. */
  organizationIds: readonly string[] | null;
  limit: number;
}

export interface FeedPage {
  events: FeedEvent[];
  /** Where to resume: the last event shown, or past events this query skipped as not its own. */
  next: FeedCursor;
  hasMore: boolean;
}

interface EventRow {
  id: string;
  transaction_id: string;
  sequence: string;
  type: string;
  organization_id: string | null;
  occurred_at: Date | string;
  actor_type: AuditActorType;
  actor_id: string;
  data: EventData;
}

// Once per statement (an init plan), not per row: see events_horizon() in the events migration.
const HORIZON = '(select events_horizon())';

/**
 * The events after `query.after`, oldest first, within the horizon. Reads in one snapshot, so
 * the page, the horizon's newest event and the retention mark agree. A short page resumes from
 * the newest event inside the horizon: every event up to it was visible to this query, and any
 * that commits later sorts after it.
 */
export async function readFeed(em: EntityManager, query: FeedQuery): Promise<FeedPage | 'pruned'> {
  return em.transactional(
    async (tx) => {
      const pruned = await prunedThrough(tx);
      if (query.after && compareCursors(query.after, pruned) < 0) return 'pruned';
      const after = query.after ?? pruned;
      const { sql, params } = selection(after, query);
      const rows = await tx.execute<EventRow[]>(
        `select id, transaction_id::text, sequence::text, type, organization_id, occurred_at, actor_type, actor_id, data
           from events
          where ${sql}
          order by transaction_id, sequence
          limit ?`,
        [...params, query.limit + 1],
      );
      const events = rows.slice(0, query.limit).map(fromEventRow);
      const hasMore = rows.length > query.limit;
      const last = events.at(-1)?.cursor ?? after;
      if (hasMore) return { events, next: last, hasMore };
      const head = await newestWithinHorizon(tx);
      return { events, next: head && compareCursors(head, last) > 0 ? head : last, hasMore };
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}

/** The feed from `after` on, a batch at a time, for the followers (fan-out, JetStream). */
export async function readFeedBatch(em: EntityManager, after: FeedCursor, limit: number): Promise<FeedEvent[]> {
  const { sql, params } = selection(after, { types: null, organizationIds: null });
  const rows = await em.execute<EventRow[]>(
    `select id, transaction_id::text, sequence::text, type, organization_id, occurred_at, actor_type, actor_id, data
       from events where ${sql} order by transaction_id, sequence limit ?`,
    [...params, limit],
  );
  return rows.map(fromEventRow);
}

/** The newest event the feed shows now (null: none), where a follower that wants only what is new starts. */
export async function newestWithinHorizon(em: EntityManager): Promise<FeedCursor | null> {
  const [row] = await em.execute<Array<{ transaction_id: string; sequence: string }>>(
    `select transaction_id::text, sequence::text from events where transaction_id < ${HORIZON} order by transaction_id desc, sequence desc limit 1`,
  );
  return row ? { transaction: row.transaction_id, sequence: row.sequence } : null;
}

/** How far retention has deleted: a cursor before this has lost events. */
export async function prunedThrough(em: EntityManager): Promise<FeedCursor> {
  const [row] = await em.execute<Array<{ transaction: string; sequence: string }>>(
    'select pruned_through_transaction::text as transaction, pruned_through_sequence::text as sequence from event_feed_state',
  );
  return row ?? FEED_START;
}

function selection(after: FeedCursor, query: Pick<FeedQuery, 'types' | 'organizationIds'>): { sql: string; params: unknown[] } {
  const where = [`(transaction_id, sequence) > (?::xid8, ?::bigint)`, `transaction_id < ${HORIZON}`];
  const params: unknown[] = [after.transaction, after.sequence];
  if (query.organizationIds) {
    where.push('organization_id = any(?::uuid[])');
    params.push(postgresArray([...query.organizationIds]));
  }
  if (query.types && query.types.length > 0) {
    where.push(`exists (select 1 from unnest(?::text[]) as prefix where type = prefix or starts_with(type, prefix || '.'))`);
    params.push(postgresArray([...query.types]));
  }
  return { sql: where.join(' and '), params };
}

function fromEventRow(row: EventRow): FeedEvent {
  return {
    id: row.id,
    type: row.type,
    occurredAt: new Date(row.occurred_at),
    organizationId: row.organization_id,
    actor: { type: row.actor_type, id: row.actor_id },
    data: row.data,
    cursor: { transaction: row.transaction_id, sequence: row.sequence },
  };
}

