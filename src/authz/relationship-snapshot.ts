import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization } from '../db/entities/index.ts';
import { recordedTuplesOf } from './relationships.ts';
import type { SpiceDbClient } from './spicedb.client.ts';

const ORGANIZATION_PAGE = 100;

/**
 * Postgres is the system of record: boot touches every tuple its rows imply into an embedded
 * (memory) SpiceDB, which starts empty each time. The rows→tuples mapping is the one the
 * services and reconcile use. Returns how many tuples were written.
 */
export async function replayRecordedRelationships(em: EntityManager, spicedb: SpiceDbClient): Promise<number> {
  let written = 0;
  let after: string | undefined;
  for (;;) {
    const organizations = await em.find(Organization, after ? { id: { $gt: after } } : {}, {
      fields: ['id'],
      orderBy: { id: 'asc' },
      limit: ORGANIZATION_PAGE,
    });
    const tuples = [];
    for (const { id } of organizations) tuples.push(...(await recordedTuplesOf(em, id)));
    await spicedb.writeInBatches(tuples.map((relationship) => ({ operation: 'touch', relationship })));
    written += tuples.length;
    if (organizations.length < ORGANIZATION_PAGE) return written;
    after = organizations.at(-1)?.id;
  }
}
