import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { Checkpoint, CheckpointSigner } from './audit-checkpoint.ts';
import { chainHeadOf, chainKey, parseChainKey, type AuditChainRef } from './audit-log.ts';
import { PollLoop } from '../background/poll-loop.ts';

interface CheckpointRow {
  chain: string;
  position: string | number;
  key_id: string;
  hash: string;
  signed_at: Date | string;
  signature: string;
}

const COLUMNS = 'chain, position, key_id, hash, signed_at, signature';

function fromRow(row: CheckpointRow): Checkpoint {
  return {
    chain: row.chain,
    position: Number(row.position),
    keyId: row.key_id,
    hash: row.hash,
    signedAt: new Date(row.signed_at),
    signature: row.signature,
  };
}

/**
 * A signed checkpoint of the chain's head: the one stored for that position already, else a new
 * one, stored. Asked again before the chain moves, it answers the same checkpoint, so readers
 * asking often add no rows.
 */
export async function checkpointChain(em: EntityManager, signer: CheckpointSigner, chain: AuditChainRef): Promise<Checkpoint> {
  const key = chainKey(chain);
  const head = await chainHeadOf(em, chain);
  const stored = await storedCheckpoint(em, key, signer.keyId, head.position);
  if (stored) return stored;
  const checkpoint = await signer.sign({ chain: key, position: head.position, hash: head.hash, signedAt: new Date() });
  await em.execute(
    `insert into audit_checkpoints (${COLUMNS}) values (?, ?, ?, ?, ?, ?) on conflict do nothing`,
    [checkpoint.chain, checkpoint.position, checkpoint.keyId, checkpoint.hash, checkpoint.signedAt, checkpoint.signature],
  );
  // Another instance may have stored one for the same head first: every caller answers the one kept.
  return (await storedCheckpoint(em, key, signer.keyId, head.position)) ?? checkpoint;
}

/** The stored checkpoint of `chain` at `position`, or its newest one when no position is given. */
export async function storedCheckpoint(em: EntityManager, chain: string, keyId: string, position?: number): Promise<Checkpoint | undefined> {
  const [row] = await em.execute<CheckpointRow[]>(
    `select ${COLUMNS} from audit_checkpoints where chain = ? and key_id = ? ${position === undefined ? '' : 'and position = ?'} order by position desc limit 1`,
    [chain, keyId, ...(position === undefined ? [] : [position])],
  );
  return row && fromRow(row);
}

/** The newest checkpoint of each chain (or of `chain`) signed with the key `keyId`. */
export async function newestStoredCheckpoints(em: EntityManager, keyId: string, chain?: string): Promise<Checkpoint[]> {
  const rows = await em.execute<CheckpointRow[]>(
    `select distinct on (chain) ${COLUMNS} from audit_checkpoints where key_id = ? ${chain === undefined ? '' : 'and chain = ?'} order by chain, position desc`,
    [keyId, ...(chain === undefined ? [] : [chain])],
  );
  return rows.map(fromRow);
}

// Events are stamped when appended, and may commit a little later: look back this far past the last run.
const COMMIT_LAG_MS = 5 * 60 * 1000;

/**
 * AUDIT_CHECKPOINT_INTERVAL_SECONDS in the running service: at boot, then at every interval, a
 * checkpoint of the head of every chain that gained events since the last run (at boot: since
 * the newest stored checkpoint). Instances may all run it: a head has one checkpoint per key.
 */
export function auditCheckpoints(orm: Orm, signer: CheckpointSigner, logger: Logger, intervalSeconds: number): PollLoop {
  let lastRun: Date | undefined;
  const run = async () => {
    const em = orm.em.fork();
    const startedAt = new Date();
    const since = lastRun ?? (await newestSigning(em, signer.keyId));
    const chains = await chainsWithEventsSince(em, new Date(since.getTime() - COMMIT_LAG_MS));
    for (const chain of chains) await checkpointChain(em, signer, chain);
    lastRun = startedAt;
    if (chains.length > 0) logger.debug({ chains: chains.length }, 'signed audit checkpoints');
  };
  return PollLoop.every('audit checkpoints', intervalSeconds * 1000, logger, run);
}

async function newestSigning(em: EntityManager, keyId: string): Promise<Date> {
  const [row] = await em.execute<Array<{ newest: Date | string | null }>>('select max(signed_at) as newest from audit_checkpoints where key_id = ?', [keyId]);
  return row?.newest ? new Date(row.newest) : new Date(0);
}

async function chainsWithEventsSince(em: EntityManager, since: Date): Promise<AuditChainRef[]> {
  const rows = await em.execute<Array<{ chain: string }>>(
    'select distinct audit_chain_of(organization_id, target_type, target_id) as chain from audit_events where occurred_at >= ? order by 1',
    [since],
  );
  return rows.map((row) => parseChainKey(row.chain));
}
