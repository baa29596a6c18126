import { auditEventWireForm } from '../../audit/audit-chain.ts';
import type { StoredAuditEvent } from '../../audit/audit-log.ts';

/** Exactly the fields the chain hashes, and the hash: a client can verify what it reads. */
export function presentAuditEvent(event: StoredAuditEvent) {
  return { ...auditEventWireForm(event), hash: event.hash };
}
