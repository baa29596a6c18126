import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { findBrokenLink, type AuditEventRecord, type BrokenLink, type ChainHead } from './audit-chain.ts';
import type { CheckpointStatement, CheckpointVerifier } from './audit-checkpoint.ts';
import { newestStoredCheckpoints } from './audit-checkpoint-log.ts';
import { chainAnchorOf, chainKey, eventsInChainOrder, parseChainKey, type AuditChainRef } from './audit-log.ts';

export interface ChainReport {
  /** `organization:<id>`, `user:<id>`, `service_account:<id>`. */
  chain: string;
  /** The events checked: those after the chain's anchor. */
  events: number;
  broken: BrokenLink | null;
}

export interface HeldChainReport extends ChainReport {
  /** Checkpoints the chain was held to (its newest one in the database, and those given). */
  checkpoints: number;
  /** Checkpoints naming events a retention prune removed: nothing left to hold them to. */
  pruned: number;
}

export interface AuditVerification {
  reports: HeldChainReport[];
  /** Checkpoints whose signature the key does not verify, each said in one line. */
  refused: string[];
}

export interface VerifyOptions {
  /** One chain; every chain with events, an anchor or a checkpoint when absent. */
  chain?: AuditChainRef | undefined;
  /** The checkpoint key's public half: without it no checkpoint is checked. */
  verifier?: CheckpointVerifier | undefined;
  /** Checkpoints kept outside the database, as compact JWS, each labelled for the report. */
  outside?: Array<{ label: string; signature: string }>;
}

/**
 * Recomputes one hash chain, or every chain, from its anchor, reading the events in batches so
 * memory stays flat however long the chain is; then holds each chain to its checkpoints: the
 * newest one stored in the database and those kept outside it. The hash chain alone catches an
 * edit that leaves the later hashes as they were; a checkpoint also catches a rewrite that
 * recomputed them (the hash at its position differs) and a truncation (its position is gone).
 */
export async function verifyAuditLog(orm: Orm, options: VerifyOptions = {}): Promise<AuditVerification> {
  const em = orm.em.fork();
  const { checkpoints, refused } = await checkpointsToHold(em, options);
  const keys = options.chain ? [chainKey(options.chain)] : [...new Set([...(await everyChainKey(em)), ...checkpoints.map((checkpoint) => checkpoint.chain)])].sort();
  const reports: HeldChainReport[] = [];
  for (const key of keys) reports.push(await verifyChain(em, key, checkpoints.filter((checkpoint) => checkpoint.chain === key)));
  return { reports, refused };
}

/** The chains alone, held to no checkpoint. */
export async function verifyAuditChains(orm: Orm, chain?: AuditChainRef): Promise<ChainReport[]> {
  return (await verifyAuditLog(orm, { chain })).reports.map(({ chain: key, events, broken }) => ({ chain: key, events, broken }));
}

async function checkpointsToHold(em: EntityManager, options: VerifyOptions): Promise<{ checkpoints: CheckpointStatement[]; refused: string[] }> {
  const { verifier } = options;
  if (!verifier) return { checkpoints: [], refused: [] };
  const stored = await newestStoredCheckpoints(em, verifier.keyId, options.chain && chainKey(options.chain));
  const candidates = [
    ...stored.map((checkpoint) => ({ label: `the database's checkpoint of ${checkpoint.chain} at position ${checkpoint.position}`, signature: checkpoint.signature })),
    ...(options.outside ?? []),
  ];
  const checkpoints: CheckpointStatement[] = [];
  const refused: string[] = [];
  for (const { label, signature } of candidates) {
    const statement = await verifier.verify(signature);
    if (!statement) refused.push(`${label} is not a checkpoint signed by key ${verifier.keyId}: forged, altered, or signed by another key`);
    else if (!options.chain || statement.chain === chainKey(options.chain)) checkpoints.push(statement);
  }
  return { checkpoints, refused };
}

async function verifyChain(em: EntityManager, key: string, checkpoints: CheckpointStatement[]): Promise<HeldChainReport> {
  const chain = parseChainKey(key);
  const anchor = await chainAnchorOf(em, chain);
  const pinned = new Set(checkpoints.map((checkpoint) => checkpoint.position));
  const hashes = new Map<number, string>();
  let events = 0;
  let head: ChainHead = anchor;
  const observed = async function* (source: AsyncIterable<AuditEventRecord & { hash: string }>) {
    for await (const event of source) {
      events += 1;
      if (pinned.has(event.position)) hashes.set(event.position, event.hash);
      head = event;
      yield event;
    }
  };
  const broken = await findBrokenLink(anchor, observed(eventsInChainOrder(em, chain, { after: anchor.position })));
  const held = checkpoints.filter((checkpoint) => checkpoint.position >= anchor.position).sort((a, b) => a.position - b.position);
  const report = { chain: key, events, checkpoints: held.length, pruned: checkpoints.length - held.length };
  if (broken) return { ...report, broken };
  hashes.set(anchor.position, anchor.hash);
  return { ...report, broken: held.map((checkpoint) => departure(checkpoint, head, hashes)).find((link) => link !== null) ?? null };
}

/** How the chain departs from what the checkpoint signed: null when it holds. */
function departure(checkpoint: CheckpointStatement, head: ChainHead, hashes: Map<number, string>): BrokenLink | null {
  const signed = `the checkpoint signed ${checkpoint.signedAt.toISOString()}`;
  if (checkpoint.position > head.position) {
    return {
      position: checkpoint.position,
      eventId: null,
      reason: `truncated: ${signed} names position ${checkpoint.position}, but the chain ends at position ${head.position}`,
    };
  }
  if (hashes.get(checkpoint.position) !== checkpoint.hash) {
    return {
      position: checkpoint.position,
      eventId: null,
      reason: `rewritten: the hash here is not the one ${signed} names, so the events up to here were changed`,
    };
  }
  return null;
}

async function everyChainKey(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<Array<{ chain: string }>>(
    'select audit_chain_of(organization_id, target_type, target_id) as chain from audit_events union select chain from audit_chain_anchors order by 1',
  );
  return rows.map((row) => row.chain);
}
