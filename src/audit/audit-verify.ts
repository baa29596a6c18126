import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { findBrokenLink, type AuditEventRecord, type BrokenLink } from './audit-chain.ts';
import { chainAnchorOf, chainKey, eventsInChainOrder, parseChainKey, type AuditChainRef } from './audit-log.ts';

export interface ChainReport {
  /** `organization:<id>`, `user:<id>`, `service_account:<id>`. */
  chain: string;
  /** The events checked: those after the chain's anchor. */
  events: number;
  broken: BrokenLink | null;
}

/**
 * Recomputes one hash chain, or every chain with events or an anchor, from its anchor, reading the
 * events in batches so memory stays flat however long the chain is.
 */
export async function verifyAuditChains(orm: Orm, chain?: AuditChainRef): Promise<ChainReport[]> {
  const em = orm.em.fork();
  const chains = chain ? [chain] : (await everyChainKey(em)).map(parseChainKey);
  const reports: ChainReport[] = [];
  for (const one of chains) {
    let events = 0;
    const counted = async function* (source: AsyncIterable<AuditEventRecord & { hash: string }>) {
      for await (const event of source) {
        events += 1;
        yield event;
      }
    };
    const anchor = await chainAnchorOf(em, one);
    const broken = await findBrokenLink(anchor, counted(eventsInChainOrder(em, one, { after: anchor.position })));
    reports.push({ chain: chainKey(one), events, broken });
  }
  return reports;
}

async function everyChainKey(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<Array<{ chain: string }>>(
    'select audit_chain_of(organization_id, target_type, target_id) as chain from audit_events union select chain from audit_chain_anchors order by 1',
  );
  return rows.map((row) => row.chain);
}
