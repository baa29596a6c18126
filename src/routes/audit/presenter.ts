import { auditEventWireForm } from '../../audit/audit-chain.ts';
import type { Checkpoint } from '../../audit/audit-checkpoint.ts';
import type { StoredAuditEvent } from '../../audit/audit-log.ts';

/** Exactly the fields the chain hashes, and the hash: a client can verify what it reads. */
export function presentAuditEvent(event: StoredAuditEvent) {
  return { ...auditEventWireForm(event), hash: event.hash };
}

export function presentCheckpoint(checkpoint: Checkpoint) {
  return {
    chain: checkpoint.chain,
    position: checkpoint.position,
    hash: checkpoint.hash,
    signed_at: checkpoint.signedAt.toISOString(),
    key_id: checkpoint.keyId,
    signature: checkpoint.signature,
  };
}
