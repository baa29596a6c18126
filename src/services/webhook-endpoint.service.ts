import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActor, AuditChanges } from '../audit/audit-chain.ts';
import { appendSubjectAuditEvent, changedFields } from '../audit/audit-log.ts';
import { Organization, WebhookEndpoint, type ServiceAccount } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound, ValidationFailed } from '../errors.ts';
import { newWebhookSecret } from '../events/webhooks/signature.ts';
import { assertPublicUrl, RefusedAddress, webhookUrlProblem } from '../events/webhooks/url-guard.ts';
import { inScope } from './service-account-scope.ts';

export interface EndpointSettings {
  url?: string | undefined;
  description?: string | null | undefined;
  /** Type prefixes; null: every type. */
  eventTypes?: string[] | null | undefined;
  /** null: every organization the account reads. */
  organizationIds?: string[] | null | undefined;
  enabled?: boolean | undefined;
}

export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  /** Shown once: at creation and at each rotation. */
  secret: string;
}

export interface WebhookAttempt {
  id: string;
  eventId: string;
  attemptedAt: Date;
  durationMs: number;
  outcome: 'delivered' | 'failed' | 'gone';
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

export interface AttemptPage {
  items: WebhookAttempt[];
  /** Pass as `cursor` for the next (older) page. */
  nextBefore: number | undefined;
}

const MAX_ENDPOINTS_PER_ACCOUNT = 50;
const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

/**
 * Webhook endpoints, each owned by the service account that registered it (the API) or that an
 * operator named (the CLI). Another account's endpoint is as unknown as a missing one. Every
 * change is in the audit log (never a secret), so an endpoint that carries events away leaves a
 * trace; `by` is who made it: the account itself unless an operator did.
 */
export class WebhookEndpointService {
  private readonly orm: Orm;
  private readonly allowPrivateUrls: boolean;
  private readonly deliveryQueued: () => void;

  /** `deliveryQueued` wakes the deliveries loop after a resend. */
  constructor(orm: Orm, allowPrivateUrls: boolean, deliveryQueued: () => void = () => {}) {
    this.orm = orm;
    this.allowPrivateUrls = allowPrivateUrls;
    this.deliveryQueued = deliveryQueued;
  }

  async create(account: ServiceAccount, settings: EndpointSettings & { url: string }, by = accountActor(account)): Promise<EndpointWithSecret> {
    const em = this.orm.em.fork();
    if ((await em.count(WebhookEndpoint, { serviceAccountId: account.id })) >= MAX_ENDPOINTS_PER_ACCOUNT) {
      throw new Conflict(`A service account may have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints`);
    }
    const secret = newWebhookSecret();
    const endpoint = new WebhookEndpoint(account.id, settings.url, secret);
    await this.apply(account, endpoint, settings);
    await em.transactional(async (tx) => {
      tx.persist(endpoint);
      await tx.flush();
      await audit(tx, by, 'webhook_endpoint.created', endpoint, changedFields({}, { service_account_id: account.id, ...auditedSettings(endpoint) }));
    });
    return { endpoint, secret };
  }

  async list(account: ServiceAccount): Promise<WebhookEndpoint[]> {
    return this.orm.em.fork().find(WebhookEndpoint, { serviceAccountId: account.id }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async get(account: ServiceAccount, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.orm.em.fork().findOne(WebhookEndpoint, { id, serviceAccountId: account.id });
    if (!endpoint) throw noSuchEndpoint();
    return endpoint;
  }

  /** Enabling again clears the reason it was disabled and its failing streak. */
  async update(account: ServiceAccount, id: string, settings: EndpointSettings, by = accountActor(account)): Promise<WebhookEndpoint> {
    const em = this.orm.em.fork();
    const endpoint = await em.findOne(WebhookEndpoint, { id, serviceAccountId: account.id });
    if (!endpoint) throw noSuchEndpoint();
    const before = auditedSettings(endpoint);
    await this.apply(account, endpoint, settings);
    if (settings.enabled === true && endpoint.state === 'disabled') {
      Object.assign(endpoint, { state: 'enabled', disabledReason: null, disabledAt: null, failingSince: null });
    }
    if (settings.enabled === false && endpoint.state === 'enabled') {
      Object.assign(endpoint, { state: 'disabled', disabledReason: 'disabled by its service account', disabledAt: new Date() });
    }
    await em.transactional(async (tx) => {
      await tx.flush();
      const changes = changedFields(before, auditedSettings(endpoint));
      if (Object.keys(changes).length > 0) await audit(tx, by, 'webhook_endpoint.changed', endpoint, changes);
      if (endpoint.state === 'disabled') {
        await tx.execute(`update webhook_deliveries set state = 'failed' where endpoint_id = ? and state = 'pending'`, [endpoint.id]);
      }
    });
    return endpoint;
  }

  async delete(account: ServiceAccount, id: string, by = accountActor(account)): Promise<void> {
    await this.orm.em.fork().transactional(async (tx) => {
      const endpoint = await tx.findOne(WebhookEndpoint, { id, serviceAccountId: account.id });
      if (!endpoint) throw noSuchEndpoint();
      await audit(tx, by, 'webhook_endpoint.deleted', endpoint, Object.fromEntries(Object.entries(auditedSettings(endpoint)).map(([field, value]) => [field, [value, null]])));
      tx.remove(endpoint);
    });
  }

  /** A new secret signs from now on; the old one signs beside it for `overlapSeconds`, so receivers can switch without a gap. */
  async rotateSecret(account: ServiceAccount, id: string, overlapSeconds = DEFAULT_OVERLAP_SECONDS, by = accountActor(account)): Promise<EndpointWithSecret> {
    const em = this.orm.em.fork();
    const endpoint = await em.findOne(WebhookEndpoint, { id, serviceAccountId: account.id });
    if (!endpoint) throw noSuchEndpoint();
    const secret = newWebhookSecret();
    endpoint.previousSecret = overlapSeconds > 0 ? endpoint.secret : null;
    endpoint.previousSecretExpiresAt = overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null;
    endpoint.secret = secret;
    await em.transactional(async (tx) => {
      await tx.flush();
      const overlapEnds = endpoint.previousSecretExpiresAt?.toISOString() ?? null;
      await audit(tx, by, 'webhook_endpoint.secret_rotated', endpoint, { previous_secret_valid_until: [null, overlapEnds] });
    });
    return { endpoint, secret };
  }

  /** The endpoint's delivery attempts, newest first. */
  async attempts(account: ServiceAccount, id: string, page: { limit: number; before?: number | undefined }): Promise<AttemptPage> {
    const endpoint = await this.get(account, id);
    const rows = await this.orm.em.fork().execute<AttemptRow[]>(
      `select id, event_id, attempted_at, duration_ms, outcome, status_code, error, response_body from webhook_attempts
        where endpoint_id = ? and id < ? order by id desc limit ?`,
      [endpoint.id, page.before ?? Number.MAX_SAFE_INTEGER, page.limit + 1],
    );
    const items = rows.slice(0, page.limit).map(fromAttemptRow);
    return { items, nextBefore: rows.length > page.limit ? Number(items.at(-1)?.id) : undefined };
  }

  /** Queues the event for the endpoint again (a fresh round of retries), whether or not it was sent before. */
  async resend(account: ServiceAccount, id: string, eventId: string): Promise<void> {
    const endpoint = await this.get(account, id);
    if (endpoint.state !== 'enabled') throw new Conflict('The endpoint is disabled; enable it (PATCH enabled: true) before resending');
    const em = this.orm.em.fork();
    const [event] = await em.execute<Array<{ organization_id: string | null }>>('select organization_id from events where id = ?', [eventId]);
    if (!event || !inScope(account, event.organization_id)) {
      throw new NotFound('No event the service account may read has that id (it may be past retention)');
    }
    await em.execute(
      `insert into webhook_deliveries (endpoint_id, event_id) values (?, ?)
       on conflict (endpoint_id, event_id) do update set state = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = null`,
      [endpoint.id, eventId],
    );
    this.deliveryQueued();
  }

  private async apply(account: ServiceAccount, endpoint: WebhookEndpoint, settings: EndpointSettings): Promise<void> {
    if (settings.url !== undefined) {
      await this.assertDeliverable(settings.url);
      endpoint.url = settings.url;
    }
    if (settings.description !== undefined) endpoint.description = settings.description;
    if (settings.eventTypes !== undefined) endpoint.eventTypes = settings.eventTypes && [...new Set(settings.eventTypes)].sort();
    if (settings.organizationIds !== undefined) {
      endpoint.organizationIds = settings.organizationIds && (await this.readableOrganizations(account, settings.organizationIds));
    }
  }

  private async assertDeliverable(url: string): Promise<void> {
    const problem = webhookUrlProblem(url);
    if (problem) throw new ValidationFailed([{ field: 'body.url', message: problem }]);
    try {
      await assertPublicUrl(url, this.allowPrivateUrls);
    } catch (error) {
      if (!(error instanceof RefusedAddress)) throw error;
      throw new ValidationFailed([{ field: 'body.url', message: `must reach a public address: ${error.message}` }]);
    }
  }

  /** Organizations that exist and that the account may read, sorted; anything else is refused. */
  private async readableOrganizations(account: ServiceAccount, ids: string[]): Promise<string[]> {
    const wanted = [...new Set(ids)].sort();
    const known = await this.orm.em.fork().find(Organization, { id: { $in: wanted } }, { fields: ['id'] });
    const refused = wanted.filter((id) => !known.some((organization) => organization.id === id) || !inScope(account, id));
    if (refused.length > 0) {
      throw new ValidationFailed([{ field: 'body.organization_ids', message: `${refused.join(', ')} are not organizations this service account may read` }]);
    }
    return wanted;
  }
}

function accountActor(account: ServiceAccount): AuditActor {
  return { type: 'service_account', id: account.id };
}

/** What the audit log keeps of an endpoint: never its secrets. */
function auditedSettings(endpoint: WebhookEndpoint): Record<string, unknown> {
  return {
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    organization_ids: endpoint.organizationIds,
    state: endpoint.state,
  };
}

function audit(em: EntityManager, actor: AuditActor, action: string, endpoint: WebhookEndpoint, changes: AuditChanges) {
  return appendSubjectAuditEvent(em, { actor, action, target: { type: 'webhook_endpoint', id: endpoint.id }, changes });
}

interface AttemptRow {
  id: string;
  event_id: string;
  attempted_at: Date | string;
  duration_ms: number;
  outcome: WebhookAttempt['outcome'];
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

function fromAttemptRow(row: AttemptRow): WebhookAttempt {
  return {
    id: String(row.id),
    eventId: row.event_id,
    attemptedAt: new Date(row.attempted_at),
    durationMs: row.duration_ms,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    responseBody: row.response_body,
  };
}

function noSuchEndpoint(): NotFound {
  return new NotFound('No webhook endpoint of this service account has that id');
}
