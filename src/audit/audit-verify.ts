import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { findBrokenLink, type AuditEventRecord, type BrokenLink } from './audit-chain.ts';
import { AUDIT_COLUMNS, chainAnchorOf, fromAuditRow, type AuditRow } from './audit-log.ts';

const BATCH = 1000;

export interface ChainReport {
  organizationId: string;
  events: number;
  broken: BrokenLink | null;
}

/**
 * Recomputes the hash chain of one organization, or of every organization with events, reading
 * the events in batches so memory stays flat however long the chain is.
 */
export async function verifyAuditChains(orm: Orm, organizationId?: string): Promise<ChainReport[]> {
  const em = orm.em.fork();
  const organizationIds = organizationId
    ? [organizationId]
    : (
        await em.execute<Array<{ organization_id: string }>>(
          'select organization_id from audit_events where organization_id is not null union select organization_id from audit_chain_anchors order by 1',
        )
      ).map((row) => row.organization_id);
  const reports: ChainReport[] = [];
  for (const id of organizationIds) {
    let events = 0;
    const counted = async function* (source: AsyncIterable<AuditEventRecord & { hash: string }>) {
      for await (const event of source) {
        events += 1;
        yield event;
      }
    };
    const broken = await findBrokenLink(await chainAnchorOf(em, id), counted(eventsInChainOrder(em, id)));
    reports.push({ organizationId: id, events, broken });
  }
  return reports;
}

/** The organization's events by position, a batch at a time (keyset on position). */
export async function* eventsInChainOrder(em: EntityManager, organizationId: string): AsyncGenerator<AuditEventRecord & { hash: string }> {
  let after = -1;
  for (;;) {
    const rows = await em.execute<AuditRow[]>(
      `select ${AUDIT_COLUMNS} from audit_events where organization_id = ? and position > ? order by position limit ?`,
      [organizationId, after, BATCH],
    );
    for (const row of rows) yield fromAuditRow(row);
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) return;
    after = Number(last.position);
  }
}
