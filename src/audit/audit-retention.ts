import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import { chainCondition, chainKey, parseChainKey, type AuditChainRef } from './audit-log.ts';
import { PollLoop } from '../background/poll-loop.ts';

const DAY_MS = 24 * 3600 * 1000;

export interface PrunedChain {
  chain: string;
  /** The new anchor: the last pruned event's position (its hash is stored with it). */
  anchoredAt: number;
  deleted: number;
}

/** The moment before which events go, for a retention of `days`. */
export function retentionCutoff(days: number, now = new Date()): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * Deletes, chain by chain, the prefix of events up to each chain's newest event older than
 * `cutoff`, and records that event's position and hash as the chain's new anchor first, in the
 * same transaction, so verification starts from it. (Clocks of several instances may disagree by
 * a little: an event a few milliseconds younger than the cutoff that sits before an older one in
 * the chain goes with the prefix.)
 *
 * Appends need no lock against this: an append chains from the newest event, which is either kept
 * or, if the whole chain is old, the very event the new anchor names. Two pruners of one chain
 * serialize on an advisory lock; the second finds nothing left to prune.
 */
export async function pruneAuditEvents(orm: Orm, cutoff: Date): Promise<PrunedChain[]> {
  const em = orm.em.fork();
  const chains = await chainsWithEventsBefore(em, cutoff);
  const pruned: PrunedChain[] = [];
  for (const chain of chains) {
    const result = await em.transactional((tx) => pruneChain(tx, chain, cutoff));
    if (result) pruned.push(result);
  }
  return pruned;
}

async function chainsWithEventsBefore(em: EntityManager, cutoff: Date): Promise<AuditChainRef[]> {
  const rows = await em.execute<Array<{ chain: string }>>(
    `select distinct audit_chain_of(organization_id, target_type, target_id) as chain from audit_events where occurred_at < ? order by 1`,
    [cutoff],
  );
  return rows.map((row) => parseChainKey(row.chain));
}

async function pruneChain(em: EntityManager, chain: AuditChainRef, cutoff: Date): Promise<PrunedChain | null> {
  const key = chainKey(chain);
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`audit-prune:${key}`]);
  const { sql, params } = chainCondition(chain);
  const [last] = await em.execute<Array<{ position: string; hash: string }>>(
    `select position, hash from audit_events where ${sql} and occurred_at < ? order by position desc limit 1`,
    [...params, cutoff],
  );
  if (!last) return null;
  // The trigger lets a delete through only inside a prune, and only below an anchor.
  await em.execute(`set local tenant_authz.audit_prune = 'on'`);
  await em.execute('insert into audit_chain_anchors (chain, position, hash) values (?, ?, ?)', [key, last.position, last.hash]);
  const deleted = await em.execute<QueryResult>(`delete from audit_events where ${sql} and position <= ?`, [...params, last.position], 'run');
  // Checkpoints before the anchor name events that are gone: nothing can be checked against them.
  await em.execute('delete from audit_checkpoints where chain = ? and position < ?', [key, last.position]);
  return { chain: key, anchoredAt: Number(last.position), deleted: deleted.affectedRows };
}

const PRUNE_INTERVAL_MS = 3600 * 1000;

/**
 * AUDIT_RETENTION_DAYS in the running service: a prune at boot, then hourly. Instances may all
 * run it; they serialize per chain and the later ones find nothing to do.
 */
export function auditRetention(orm: Orm, logger: Logger, days: number): PollLoop {
  const prune = async () => {
    const chains = await pruneAuditEvents(orm, retentionCutoff(days));
    if (chains.length === 0) return;
    const deleted = chains.reduce((sum, chain) => sum + chain.deleted, 0);
    logger.info({ chains: chains.length, deleted, retentionDays: days }, 'pruned audit events past retention');
  };
  return PollLoop.every('audit retention', PRUNE_INTERVAL_MS, logger, prune);
}
