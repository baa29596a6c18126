import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActorType } from '../../audit/audit-chain.ts';
import type { CycleOutcome } from '../../background/poll-loop.ts';
import type { EventsConfig } from '../../config.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../observability/logger.ts';
import { eventWireForm, type EventData } from '../event-log.ts';
import { sendWebhook, type SendOutcome } from './webhook-sender.ts';

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | string | null;
  event_id: string;
  type: string;
  organization_id: string | null;
  occurred_at: Date | string;
  actor_type: AuditActorType;
  actor_id: string;
  data: EventData;
}

/**
 * Claims due deliveries for this instance. FOR UPDATE SKIP LOCKED: instances claim disjoint rows.
 * The claim is committed at once with a lease (next_attempt_at moved past the attempt's timeout),
 * rather than held open across the HTTP call: an open transaction with an id would hold the
 * feed's horizon back for every reader, and a crash mid-delivery simply lets the lease run out,
 * after which any instance tries again. The attempt is counted when claimed.
 */
const CLAIM_SQL = `
  with due as (
    select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
     where d.state = 'pending' and d.next_attempt_at <= now() and e.state = 'enabled'
     order by d.next_attempt_at, d.id
     limit ?
       for update of d skip locked)
  update webhook_deliveries d
     set attempts = d.attempts + 1, next_attempt_at = now() + (? * interval '1 millisecond')
    from due, webhook_endpoints e, events ev
   where d.id = due.id and e.id = d.endpoint_id and ev.id = d.event_id
  returning d.id, d.endpoint_id, d.attempts, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at,
            ev.id as event_id, ev.type, ev.organization_id, ev.occurred_at, ev.actor_type, ev.actor_id, ev.data`;

/**
 * Sends the webhook deliveries the fan-out queued: up to `maxInFlight` at once per instance, so a
 * slow endpoint holds up only its own attempts. Each outcome is recorded in its own short
 * transaction: delivered; failed and retried after the next delay of the schedule (or the
 * receiver's Retry-After), given up after the last; 410 disables the endpoint; an endpoint that
 * has failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled.
 */
export class WebhookDeliveries {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  private readonly orm: Orm;
  private readonly logger: Logger;
  private readonly config: EventsConfig['webhooks'];
  private readonly onSettled: () => void;

  /** `onSettled` runs when half the slots are free again: time for the next claim. */
  constructor(orm: Orm, logger: Logger, config: EventsConfig['webhooks'], onSettled: () => void) {
    this.orm = orm;
    this.logger = logger;
    this.config = config;
    this.onSettled = onSettled;
  }

  /** Claims as many due deliveries as there are free slots and starts them. */
  async cycle(): Promise<CycleOutcome> {
    const free = this.config.maxInFlight - this.inFlight.size;
    if (free <= 0 || this.stopping.signal.aborted) return 'idle';
    const claimed = await this.orm.em.fork().execute<ClaimedDelivery[]>(CLAIM_SQL, [free, this.leaseMs()]);
    for (const delivery of claimed) {
      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(attempt);
        // Claims in batches: one claim per attempt would double the round trips.
        if (this.inFlight.size <= this.config.maxInFlight / 2) this.onSettled();
      });
      this.inFlight.add(attempt);
    }
    return 'idle';
  }

  /** Drops the attempts in flight (their leases let an instance retry them) and waits for them to end. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the service is stopping'));
    await Promise.allSettled([...this.inFlight]);
  }

  /** Long enough for the attempt and its recording; a crash releases the delivery after it. */
  private leaseMs(): number {
    return 2 * this.config.timeoutMs + 5_000;
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const attemptedAt = new Date();
    const secrets = [delivery.secret];
    const overlapEnds = delivery.previous_secret_expires_at && new Date(delivery.previous_secret_expires_at);
    if (delivery.previous_secret && overlapEnds && overlapEnds > attemptedAt) secrets.push(delivery.previous_secret);
    const body = JSON.stringify(
      eventWireForm({
        id: delivery.event_id,
        type: delivery.type,
        occurredAt: new Date(delivery.occurred_at),
        organizationId: delivery.organization_id,
        actor: { type: delivery.actor_type, id: delivery.actor_id },
        data: delivery.data,
      }),
    );
    let outcome: SendOutcome;
    try {
      outcome = await sendWebhook(
        { url: delivery.url, secrets, id: delivery.event_id, body },
        { timeoutMs: this.config.timeoutMs, allowPrivate: this.config.allowPrivateUrls, signal: this.stopping.signal },
      );
    } catch {
      return; // Stopping: the lease brings it back.
    }
    try {
      if (outcome.kind === 'delivered') await this.recordDelivered(delivery, attemptedAt, outcome);
      else await this.orm.em.fork().transactional((em) => this.recordFailure(em, delivery, attemptedAt, outcome));
    } catch (error) {
      this.logger.warn({ err: error, delivery: delivery.id }, 'could not record a webhook attempt; the delivery is retried when its lease ends');
    }
  }

  /** The common case in one statement (atomic on its own): the attempt, the delivery done, the endpoint's failing streak over. */
  private async recordDelivered(delivery: ClaimedDelivery, attemptedAt: Date, outcome: SendOutcome & { kind: 'delivered' }): Promise<void> {
    await this.orm.em.fork().execute(
      `with attempt as (
         insert into webhook_attempts (delivery_id, endpoint_id, event_id, attempted_at, duration_ms, outcome, status_code, response_body)
         values (?, ?, ?, ?, ?, 'delivered', ?, ?)),
       delivered as (update webhook_deliveries set state = 'delivered', delivered_at = now() where id = ?)
       update webhook_endpoints set failing_since = null where id = ? and failing_since is not null`,
      [delivery.id, delivery.endpoint_id, delivery.event_id, attemptedAt, outcome.durationMs, outcome.status, outcome.responseBody, delivery.id, delivery.endpoint_id],
      'run',
    );
  }

  private async recordFailure(em: EntityManager, delivery: ClaimedDelivery, attemptedAt: Date, outcome: SendOutcome): Promise<void> {
    const failure = outcome.kind === 'failed' ? outcome : null;
    await em.execute(
      `insert into webhook_attempts (delivery_id, endpoint_id, event_id, attempted_at, duration_ms, outcome, status_code, error, response_body)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        delivery.id,
        delivery.endpoint_id,
        delivery.event_id,
        attemptedAt,
        outcome.durationMs,
        outcome.kind,
        outcome.status,
        failure?.error?.slice(0, 1000) ?? null,
        outcome.responseBody,
      ],
    );
    if (outcome.kind === 'gone') {
      await em.execute(`update webhook_deliveries set state = 'failed' where id = ?`, [delivery.id]);
      await disableEndpoint(em, delivery.endpoint_id, 'the endpoint answered 410 Gone');
      return;
    }
    const delayMs = this.config.retryDelaysMs[delivery.attempts - 1];
    if (delayMs === undefined) {
      await em.execute(`update webhook_deliveries set state = 'failed' where id = ?`, [delivery.id]);
    } else {
      const waitMs = Math.max(jittered(delayMs), outcome.kind === 'failed' ? (outcome.retryAfterMs ?? 0) : 0);
      await em.execute(`update webhook_deliveries set next_attempt_at = now() + (? * interval '1 millisecond') where id = ?`, [waitMs, delivery.id]);
    }
    const [endpoint] = await em.execute<Array<{ failing_ms: number }>>(
      `update webhook_endpoints set failing_since = coalesce(failing_since, now()) where id = ?
       returning extract(epoch from now() - failing_since) * 1000 as failing_ms`,
      [delivery.endpoint_id],
    );
    if (endpoint && Number(endpoint.failing_ms) >= this.config.disableAfterMs) {
      await disableEndpoint(em, delivery.endpoint_id, `every delivery failed for ${Math.round(this.config.disableAfterMs / 86_400_000)} days`);
    }
  }
}

/** Disabled: nothing more is sent to it, and what waited for it is given up (each can be resent). */
export async function disableEndpoint(em: EntityManager, endpointId: string, reason: string): Promise<void> {
  await em.execute(
    `update webhook_endpoints set state = 'disabled', disabled_reason = ?, disabled_at = now(), updated_at = now() where id = ? and state = 'enabled'`,
    [reason, endpointId],
  );
  await em.execute(`update webhook_deliveries set state = 'failed' where endpoint_id = ? and state = 'pending'`, [endpointId]);
}

/** ±10 %, so deliveries that failed together do not all come back at once. */
function jittered(delayMs: number): number {
  return Math.round(delayMs * (0.9 + Math.random() * 0.2));
}
