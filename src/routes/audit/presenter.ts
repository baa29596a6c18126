import type { StoredAuditEvent } from '../../audit/audit-log.ts';

export function presentAuditEvent(event: StoredAuditEvent) {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    organization_id: event.organizationId,
    position: event.position,
    actor: event.actor,
    on_behalf_of: event.onBehalfOf,
    action: event.action,
    target: event.target,
    changes: event.changes,
    request_id: event.requestId,
    client_address: event.clientAddress,
    user_agent: event.userAgent,
    hash: event.hash,
  };
}
