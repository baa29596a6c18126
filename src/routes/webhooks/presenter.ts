import type { WebhookEndpoint } from '../../db/entities/index.ts';
import type { EndpointWithSecret, WebhookAttempt } from '../../services/webhook-endpoint.service.ts';

export function presentEndpoint(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    organization_ids: endpoint.organizationIds,
    enabled: endpoint.state === 'enabled',
    disabled_reason: endpoint.disabledReason,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    failing_since: endpoint.failingSince?.toISOString() ?? null,
    previous_secret_expires_at: endpoint.previousSecret ? (endpoint.previousSecretExpiresAt?.toISOString() ?? null) : null,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

export function presentEndpointWithSecret({ endpoint, secret }: EndpointWithSecret) {
  return { ...presentEndpoint(endpoint), secret };
}

export function presentAttempt(attempt: WebhookAttempt) {
  return {
    id: attempt.id,
    event_id: attempt.eventId,
    attempted_at: attempt.attemptedAt.toISOString(),
    duration_ms: attempt.durationMs,
    outcome: attempt.outcome,
    status_code: attempt.statusCode,
    error: attempt.error,
    response_body: attempt.responseBody,
  };
}
