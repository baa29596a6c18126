import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization } from '../db/entities/index.ts';
import { recordedModuleTuples } from './module-relationships.ts';
import { recordedTuplesOf } from './relationships.ts';
import type { SpiceDbClient } from './spicedb.client.ts';

const ORGANIZATION_PAGE = 100;

/**
 * Postgres is the system of record: boot touches every tuple its rows imply into an embedded
 * (memory) SpiceDB, which starts empty each time. The rows→tuples mapping is the one the
 * services and reconcile use; then the policy modules' relationships. Returns how many tuples were written.
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
    if (organizations.length < ORGANIZATION_PAGE) break;
    after = organizations.at(-1)?.id;
  }
  // The policy modules' relationships, recorded apart from any one organization.
  for await (const page of recordedModuleTuples(em)) {
    await spicedb.writeInBatches(page.map((relationship) => ({ operation: 'touch', relationship })));
    written += page.length;
  }
  return written;
}
