import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  chainHash,
  GENESIS,
  type AuditActor,
  type AuditChanges,
  type AuditEventRecord,
  type AuditTarget,
  type ChainHead,
  type OnBehalfOf,
} from './audit-chain.ts';
import { currentRequestMetadata } from './request-metadata.ts';
import { recordEvents } from '../events/event-log.ts';

/** What a service says happened; the audit log adds the id, time, request metadata, position and hash. */
export interface AuditEntry {
  actor: AuditActor;
  onBehalfOf?: AuditTarget | null | undefined;
  action: string;
  target: AuditTarget;
  changes?: AuditChanges | undefined;
}

export interface StoredAuditEvent extends AuditEventRecord {
  hash: string;
}

/** The operator at the CLI: no account of the service. */
export const OPERATOR: AuditActor = { type: 'system', id: 'operator' };

export function userActor(userId: string): AuditActor {
  return { type: 'user', id: userId };
}

/** The `changes` of an update: only the fields whose value differs. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): AuditChanges {
  const changes: AuditChanges = {};
  for (const [field, value] of Object.entries(after)) {
    if (value !== undefined && before[field] !== value) changes[field] = [before[field] ?? null, value];
  }
  return changes;
}

export const AUDIT_COLUMNS =
  'id, organization_id, position, occurred_at, actor_type, actor_id, on_behalf_of_type, on_behalf_of, action, target_type, target_id, changes, request_id, client_address, user_agent, hash';

export interface AuditRow {
  id: string;
  organization_id: string | null;
  position: string | number;
  occurred_at: Date | string;
  actor_type: AuditActor['type'];
  actor_id: string;
  /** Null with an id: an event recorded before on_behalf_of named its type (see OnBehalfOf). */
  on_behalf_of_type: string | null;
  on_behalf_of: string | null;
  action: string;
  target_type: string;
  target_id: string;
  changes: AuditChanges;
  request_id: string | null;
  client_address: string | null;
  user_agent: string | null;
  hash: string;
}

export function fromAuditRow(row: AuditRow): StoredAuditEvent {
  return {
    id: row.id,
    organizationId: row.organization_id,
    position: Number(row.position),
    occurredAt: new Date(row.occurred_at),
    actor: { type: row.actor_type, id: row.actor_id },
    onBehalfOf: onBehalfOfFromRow(row),
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    changes: row.changes,
    requestId: row.request_id,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
    hash: row.hash,
  };
}

function onBehalfOfFromRow({ on_behalf_of_type: type, on_behalf_of: id }: AuditRow): OnBehalfOf | null {
  if (id === null) return null;
  return type === null ? id : { type, id };
}

/**
 * Whose chain an event is in: an organization's (`{type: 'organization', id}`), or, for an event
 * outside any organization, its target's: each user's sessions form one chain, each service
 * account's lifecycle another.
 */
export interface AuditChainRef {
  type: string;
  id: string;
}

export function organizationChain(organizationId: string): AuditChainRef {
  return { type: 'organization', id: organizationId };
}

/** `organization:<id>`, `user:<id>`: how audit_chain_anchors (and the CLI) name a chain. */
export function chainKey(chain: AuditChainRef): string {
  return `${chain.type}:${chain.id}`;
}

export function parseChainKey(key: string): AuditChainRef {
  const separator = key.indexOf(':');
  return { type: key.slice(0, separator), id: key.slice(separator + 1) };
}

/** The SQL condition selecting one chain's events (served by a unique index on each shape). */
export function chainCondition(chain: AuditChainRef): { sql: string; params: unknown[] } {
  return chain.type === 'organization'
    ? { sql: 'organization_id = ?', params: [chain.id] }
    : { sql: 'organization_id is null and target_type = ? and target_id = ?', params: [chain.type, chain.id] };
}

export interface AppendOptions {
  /** When the events happened; now unless a bulk load (a test, the bench) backdates them. */
  occurredAt?: Date;
  /** Also tell other services (src/events): always, bar the bench's events-off baseline. */
  events?: boolean;
}

/**
 * Appends events to an organization's hash chain inside the caller's transaction, so they commit
 * or roll back with the change they describe. The caller must hold the organization's row lock
 * (the tenant unit of work does), or have created the organization in this transaction: that lock
 * is what keeps two transactions from reading the same head and forking the chain.
 */
export function appendAuditEvents(
  em: EntityManager,
  organizationId: string,
  entries: AuditEntry[],
  options: AppendOptions = {},
): Promise<StoredAuditEvent[]> {
  return appendToChain(em, organizationChain(organizationId), entries, options);
}

/** How the tenant unit of work records a change's events: appendAuditEvents, bar the bench's baseline. */
export type AuditAppend = (em: EntityManager, organizationId: string, entries: AuditEntry[]) => Promise<unknown>;

/**
 * Appends events outside any organization (sessions, service accounts), each to its target's
 * chain, inside the caller's transaction. A transaction-scoped advisory lock on the chain stands
 * in for the organization row lock; the unique (target, position) index would refuse a fork anyway.
 */
export async function appendSubjectAuditEvent(em: EntityManager, entry: AuditEntry, options: AppendOptions = {}): Promise<StoredAuditEvent> {
  const chain = entry.target;
  if (chain.type === 'organization') throw new Error('An event about an organization belongs to its chain: use appendAuditEvents');
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`audit:${chainKey(chain)}`]);
  const [event] = await appendToChain(em, chain, [entry], options);
  if (!event) throw new Error('appendToChain returned no event for one entry');
  return event;
}

async function appendToChain(em: EntityManager, chain: AuditChainRef, entries: AuditEntry[], options: AppendOptions): Promise<StoredAuditEvent[]> {
  if (entries.length === 0) return [];
  const metadata = currentRequestMetadata();
  const occurredAt = options.occurredAt ?? new Date();
  const organizationId = chain.type === 'organization' ? chain.id : null;
  let head = await chainHeadOf(em, chain);
  const events: StoredAuditEvent[] = [];
  for (const entry of entries) {
    const record: AuditEventRecord = {
      id: randomUUID(),
      organizationId,
      position: head.position + 1,
      occurredAt,
      actor: entry.actor,
      onBehalfOf: entry.onBehalfOf ?? null,
      action: entry.action,
      target: entry.target,
      changes: entry.changes ?? {},
      ...metadata,
    };
    const event = { ...record, hash: chainHash(head.hash, record) };
    events.push(event);
    head = event;
  }
  // Postgres takes at most 65,535 parameters a statement: 16 a row.
  for (let start = 0; start < events.length; start += INSERT_BATCH) {
    await insertEvents(em, events.slice(start, start + INSERT_BATCH));
  }
  if (options.events !== false) await recordEvents(em, events);
  return events;
}

const INSERT_BATCH = 2000;

async function insertEvents(em: EntityManager, events: StoredAuditEvent[]): Promise<void> {
  const placeholders = events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)').join(', ');
  await em.execute(
    `insert into audit_events (${AUDIT_COLUMNS}) values ${placeholders}`,
    events.flatMap((event) => [
      event.id,
      event.organizationId,
      event.position,
      event.occurredAt,
      event.actor.type,
      event.actor.id,
      ...onBehalfOfColumns(event.onBehalfOf),
      event.action,
      event.target.type,
      event.target.id,
      JSON.stringify(event.changes),
      event.requestId,
      event.clientAddress,
      event.userAgent,
      event.hash,
    ]),
    'run',
  );
}

/** The newest event of the chain, else its anchor (the last pruned event), else the genesis. */
export async function chainHeadOf(em: EntityManager, chain: AuditChainRef): Promise<ChainHead> {
  const { sql, params } = chainCondition(chain);
  const [last] = await em.execute<Array<{ position: string; hash: string }>>(
    `select position, hash from audit_events where ${sql} order by position desc limit 1`,
    params,
  );
  if (last) return { position: Number(last.position), hash: last.hash };
  return chainAnchorOf(em, chain);
}

/** Where the chain starts: its newest anchor (the last event pruned), else the genesis. */
export async function chainAnchorOf(em: EntityManager, chain: AuditChainRef): Promise<ChainHead> {
  const [anchor] = await em.execute<Array<{ position: string; hash: string }>>(
    'select position, hash from audit_chain_anchors where chain = ? order by position desc limit 1',
    [chainKey(chain)],
  );
  return anchor ? { position: Number(anchor.position), hash: anchor.hash } : GENESIS;
}

const READ_BATCH = 1000;

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
      [...params, after, ...bounds, READ_BATCH],
    );
    for (const row of rows) yield fromAuditRow(row);
    const last = rows.at(-1);
    if (!last || rows.length < READ_BATCH) return;
    after = Number(last.position);
  }
}

/** The on_behalf_of_type and on_behalf_of columns of an event. */
function onBehalfOfColumns(onBehalfOf: OnBehalfOf | null): [string | null, string | null] {
  if (onBehalfOf === null) return [null, null];
  return typeof onBehalfOf === 'string' ? [null, onBehalfOf] : [onBehalfOf.type, onBehalfOf.id];
}
