import { appendAuditEvents, type AuditEntry } from '../../src/audit/audit-log.ts';
import type { Orm } from '../../src/db/orm.ts';

const BATCH = 2000;

/**
 * Appends `count` synthetic events (`test.load`) to an organization's chain through the audit
 * log's own append, a batch per transaction under the organization's row lock, as the unit of
 * work holds it: a long, valid chain in seconds.
 */
export async function loadAuditEvents(
  orm: Orm,
  organizationId: string,
  count: number,
  options: { occurredAt?: Date } = {},
): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const entries: AuditEntry[] = Array.from({ length: Math.min(BATCH, count - done) }, (_, index) => ({
      actor: { type: 'system', id: 'test-load' },
      action: 'test.load',
      target: { type: 'organization', id: organizationId },
      changes: { n: [null, done + index] },
    }));
    await orm.em.fork().transactional(async (em) => {
      await em.execute('select id from organizations where id = ? for update', [organizationId]);
      await appendAuditEvents(em, organizationId, entries, options);
    });
  }
}
