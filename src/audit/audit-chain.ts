import { createHash } from 'node:crypto';

export type AuditActorType = 'user' | 'service_account' | 'system';

export interface AuditActor {
  type: AuditActorType;
  id: string;
}

export interface AuditTarget {
  type: string;
  id: string;
}

/**
 * Whom a service account acted for: `{type: 'user', id}`, as the authorization API names it.
 * Events recorded before that shape hold the bare user id: they were hashed with it, so they
 * keep it.
 */
export type OnBehalfOf = AuditTarget | string;

/** `{field: [before, after]}`; null for a side that does not exist (created, deleted). */
export type AuditChanges = Record<string, [unknown, unknown]>;

/** One recorded event, as hashed: every column but the hash itself. */
export interface AuditEventRecord {
  id: string;
  organizationId: string | null;
  position: number;
  occurredAt: Date;
  actor: AuditActor;
  onBehalfOf: OnBehalfOf | null;
  action: string;
  target: AuditTarget;
  changes: AuditChanges;
  requestId: string | null;
  clientAddress: string | null;
  userAgent: string | null;
}

/** The chain's start: no event yet (empty hash) or the last pruned event's hash (the anchor). */
export interface ChainHead {
  position: number;
  hash: string;
}

export const GENESIS: ChainHead = { position: 0, hash: '' };

/**
 * JSON with object keys sorted at every depth, so the same event always hashes the same way
 * whatever order jsonb hands its keys back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
}

/**
 * The event as it is hashed and as the API shows it: the wire names, so a verifier in another
 * language can recompute the hash from what it was given.
 */
export function auditEventWireForm(event: AuditEventRecord) {
  return {
    id: event.id,
    organization_id: event.organizationId,
    position: event.position,
    occurred_at: event.occurredAt.toISOString(),
    actor: event.actor,
    on_behalf_of: event.onBehalfOf,
    action: event.action,
    target: event.target,
    changes: event.changes,
    request_id: event.requestId,
    client_address: event.clientAddress,
    user_agent: event.userAgent,
  };
}

/** sha256(previous hash || canonical JSON of the event), hex. */
export function chainHash(previousHash: string, event: AuditEventRecord): string {
  return createHash('sha256').update(previousHash).update(canonicalJson(auditEventWireForm(event))).digest('hex');
}

export interface BrokenLink {
  position: number;
  eventId: string | null;
  reason: string;
}

/**
 * Walks one organization's events in chain order from its anchor: each must sit at the next
 * position and carry the hash of its predecessor's hash and its own content. The first link that
 * does not is the answer (null: the chain is intact).
 */
export async function findBrokenLink(
  anchor: ChainHead,
  events: AsyncIterable<AuditEventRecord & { hash: string }>,
): Promise<BrokenLink | null> {
  let previous = anchor;
  for await (const event of events) {
    if (event.position !== previous.position + 1) {
      return {
        position: previous.position + 1,
        eventId: event.id,
        reason: `expected position ${previous.position + 1}, found ${event.position} (an event is missing or out of order)`,
      };
    }
    const expected = chainHash(previous.hash, event);
    if (expected !== event.hash) {
      return { position: event.position, eventId: event.id, reason: 'hash does not match the event and its predecessor (edited, or reordered)' };
    }
    previous = { position: event.position, hash: event.hash };
  }
  return null;
}
