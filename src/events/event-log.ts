import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActor, AuditEventRecord, OnBehalfOf } from '../audit/audit-chain.ts';
import { EVENT_CATALOGUE, eventTypeOf } from './event-catalogue.ts';

/** A change of one field: null for a side that does not exist (created, deleted). */
export interface FieldChange {
  before: unknown;
  after: unknown;
}

export interface EventData {
  /** What changed: the audit target (`user`, `workspace`, `invitation`, `chatbot`, ...). */
  object: { type: string; id: string };
  /** The user a service account acted for, when it named one: `{type: "user", id}`, as everywhere else. */
  on_behalf_of?: { type: string; id: string };
  changes: Record<string, FieldChange>;
}

/** What other services are told: the wire form of the feed, webhooks and JetStream. */
export interface OutwardEvent {
  /** The audit event's id: the same change, and the idempotency key of every delivery. */
  id: string;
  type: string;
  occurredAt: Date;
  organizationId: string | null;
  actor: AuditActor;
  data: EventData;
}

/** The event an audit record is told to other services as, or null for one that stays inside. */
export function outwardEventOf(record: AuditEventRecord): OutwardEvent | null {
  const type = eventTypeOf(record.action);
  if (!type) return null;
  const fields = EVENT_CATALOGUE[record.action]?.fields ?? [];
  const changes: Record<string, FieldChange> = {};
  for (const field of fields) {
    const change = record.changes[field];
    if (change) changes[field] = { before: change[0] ?? null, after: change[1] ?? null };
  }
  return {
    id: record.id,
    type,
    occurredAt: record.occurredAt,
    organizationId: record.organizationId,
    actor: record.actor,
    data: { object: record.target, ...(record.onBehalfOf && { on_behalf_of: asSubject(record.onBehalfOf) }), changes },
  };
}

/** An audit record from before on_behalf_of carried its type holds a bare user id. */
function asSubject(onBehalfOf: OnBehalfOf): { type: string; id: string } {
  return typeof onBehalfOf === 'string' ? { type: 'user', id: onBehalfOf } : onBehalfOf;
}

/** The JSON every consumer receives, field names as documented. */
export function eventWireForm(event: OutwardEvent) {
  return {
    id: event.id,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    organization_id: event.organizationId,
    actor: event.actor,
    data: event.data,
  };
}

export type EventWireForm = ReturnType<typeof eventWireForm>;

const INSERT_BATCH = 2000;

/**
 * Writes the outward events of audit records in the caller's transaction (the audit log calls it
 * beside its own insert), so an event exists exactly when its change committed. Each row takes
 * the writing transaction's id: the feed orders and releases events by it (see event-feed.ts).
 */
export async function recordEvents(em: EntityManager, records: AuditEventRecord[]): Promise<void> {
  const events = records.flatMap((record) => outwardEventOf(record) ?? []);
  for (let start = 0; start < events.length; start += INSERT_BATCH) {
    const batch = events.slice(start, start + INSERT_BATCH);
    await em.execute(
      `insert into events (id, type, organization_id, occurred_at, actor_type, actor_id, data) values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?::jsonb)').join(', ')}`,
      batch.flatMap((event) => [
        event.id,
        event.type,
        event.organizationId,
        event.occurredAt,
        event.actor.type,
        event.actor.id,
        JSON.stringify(event.data),
      ]),
      'run',
    );
  }
}
