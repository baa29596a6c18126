import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { findBrokenLink, type AuditEventRecord, type BrokenLink } from './audit-chain.ts';
import {
  AUDIT_COLUMNS,
  chainAnchorOf,
  chainCondition,
  chainKey,
  fromAuditRow,
  parseChainKey,
  type AuditChainRef,
  type AuditRow,
  type StoredAuditEvent,
} from './audit-log.ts';

const BATCH = 1000;

export interface ChainReport {
  /** `organization:<id>`, `user:<id>`, `service_account:<id>`. */
  chain: string;
  /** The events checked: those after the chain's anchor. */
  events: number;
  broken: BrokenLink | null;
}

/**
 * Recomputes one hash chain, or every chain with events or an anchor, from its anchor, reading the
 * events in batches so memory stays flat however long the chain is.
 */
export async function verifyAuditChains(orm: Orm, chain?: AuditChainRef): Promise<ChainReport[]> {
  const em = orm.em.fork();
  const chains = chain ? [chain] : (await everyChainKey(em)).map(parseChainKey);
  const reports: ChainReport[] = [];
  for (const one of chains) {
    let events = 0;
    const counted = async function* (source: AsyncIterable<AuditEventRecord & { hash: string }>) {
      for await (const event of source) {
        events += 1;
        yield event;
      }
    };
    const anchor = await chainAnchorOf(em, one);
    const broken = await findBrokenLink(anchor, counted(eventsInChainOrder(em, one, { after: anchor.position })));
    reports.push({ chain: chainKey(one), events, broken });
  }
  return reports;
}

async function everyChainKey(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<Array<{ chain: string }>>(
    `select distinct 'organization:' || organization_id as chain from audit_events where organization_id is not null
     union select distinct target_type || ':' || target_id from audit_events where organization_id is null
     union select distinct chain from audit_chain_anchors
     order by 1`,
  );
  return rows.map((row) => row.chain);
}

export interface ChainWalk {
  /** Start after this position (the chain's anchor). */
  after?: number;
  /** Stop at this position (the head when an export began), so a walk ends on a busy chain. */
  upTo?: number;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** The chain's events by position, a batch at a time (keyset on position). */
export async function* eventsInChainOrder(em: EntityManager, chain: AuditChainRef, walk: ChainWalk = {}): AsyncGenerator<StoredAuditEvent> {
  const { sql, params } = chainCondition(chain);
  const where = [sql, 'position > ?'];
  const bounds: unknown[] = [];
  if (walk.upTo !== undefined) {
    where.push('position <= ?');
    bounds.push(walk.upTo);
  }
  if (walk.since !== undefined) {
    where.push('occurred_at >= ?');
    bounds.push(walk.since);
  }
  if (walk.until !== undefined) {
    where.push('occurred_at < ?');
    bounds.push(walk.until);
  }
  let after = walk.after ?? 0;
  for (;;) {
    const rows = await em.execute<AuditRow[]>(
      `select ${AUDIT_COLUMNS} from audit_events where ${where.join(' and ')} order by position limit ?`,
      [...params, after, ...bounds, BATCH],
    );
    for (const row of rows) yield fromAuditRow(row);
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) return;
    after = Number(last.position);
  }
}
