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
} from './audit-chain.ts';
import { currentRequestMetadata } from './request-metadata.ts';

/** What a service says happened; the audit log adds the id, time, request metadata, position and hash. */
export interface AuditEntry {
  actor: AuditActor;
  onBehalfOf?: string | null | undefined;
  action: string;
  target: AuditTarget;
  changes?: AuditChanges | undefined;
}

export interface StoredAuditEvent extends AuditEventRecord {
  hash: string;
}

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
  'id, organization_id, position, occurred_at, actor_type, actor_id, on_behalf_of, action, target_type, target_id, changes, request_id, client_address, user_agent, hash';

export interface AuditRow {
  id: string;
  organization_id: string | null;
  position: string | number;
  occurred_at: Date | string;
  actor_type: AuditActor['type'];
  actor_id: string;
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
    onBehalfOf: row.on_behalf_of,
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    changes: row.changes,
    requestId: row.request_id,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
    hash: row.hash,
  };
}

/**
 * Appends events to an organization's hash chain inside the caller's transaction, so they commit
 * or roll back with the change they describe. The caller must hold the organization's row lock
 * (the tenant unit of work does), or have created the organization in this transaction: that lock
 * is what keeps two transactions from reading the same head and forking the chain.
 */
export async function appendAuditEvents(em: EntityManager, organizationId: string, entries: AuditEntry[]): Promise<StoredAuditEvent[]> {
  if (entries.length === 0) return [];
  const metadata = currentRequestMetadata();
  const occurredAt = new Date();
  let head = await chainHeadOf(em, organizationId);
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
  const placeholders = events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)').join(', ');
  await em.execute(
    `insert into audit_events (${AUDIT_COLUMNS}) values ${placeholders}`,
    events.flatMap((event) => [
      event.id,
      event.organizationId,
      event.position,
      event.occurredAt,
      event.actor.type,
      event.actor.id,
      event.onBehalfOf,
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
  return events;
}

/** The newest event of the organization's chain, else its anchor (the last pruned event), else the genesis. */
async function chainHeadOf(em: EntityManager, organizationId: string): Promise<ChainHead> {
  const [last] = await em.execute<Array<{ position: string; hash: string }>>(
    'select position, hash from audit_events where organization_id = ? order by position desc limit 1',
    [organizationId],
  );
  if (last) return { position: Number(last.position), hash: last.hash };
  return chainAnchorOf(em, organizationId);
}

export async function chainAnchorOf(em: EntityManager, organizationId: string): Promise<ChainHead> {
  const [anchor] = await em.execute<Array<{ position: string; hash: string }>>(
    'select position, hash from audit_chain_anchors where organization_id = ?',
    [organizationId],
  );
  return anchor ? { position: Number(anchor.position), hash: anchor.hash } : GENESIS;
}
