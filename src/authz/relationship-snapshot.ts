import type { EntityManager } from '@mikro-orm/postgresql';
import type { Relationship, SpiceDbClient } from './spicedb.client.js';

/**
 * Postgres is the system of record: this is every tuple its rows imply. Boot replays it into an
 * embedded (memory) SpiceDB, which starts empty each time.
 */
const RECORDED_RELATIONSHIPS_SQL = `
  select 'organization' as resource_type, organization_id::text as resource_id, role::text as relation,
         'user' as subject_type, user_id::text as subject_id
    from organization_memberships
  union all
  select 'workspace', id::text, 'organization', 'organization', organization_id::text
    from workspaces
  union all
  select 'workspace', workspace_id::text, role::text, 'user', user_id::text
    from workspace_memberships
  order by 1, 2, 3, 4, 5
  limit ? offset ?`;

interface RelationshipRow {
  resource_type: string;
  resource_id: string;
  relation: string;
  subject_type: string;
  subject_id: string;
}

// SpiceDB's default cap on updates in one WriteRelationships call is 1,000.
const PAGE_SIZE = 1_000;

export async function* relationshipsRecordedIn(em: EntityManager): AsyncGenerator<Relationship[]> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const rows = await em.getConnection().execute<RelationshipRow[]>(RECORDED_RELATIONSHIPS_SQL, [PAGE_SIZE, offset]);
    if (rows.length > 0) {
      yield rows.map((row) => ({
        resource: { type: row.resource_type, id: row.resource_id },
        relation: row.relation,
        subject: { type: row.subject_type, id: row.subject_id },
      }));
    }
    if (rows.length < PAGE_SIZE) return;
  }
}

/** Touches every recorded tuple into SpiceDB; returns how many were written. */
export async function replayRecordedRelationships(em: EntityManager, spicedb: SpiceDbClient): Promise<number> {
  let written = 0;
  for await (const page of relationshipsRecordedIn(em)) {
    await spicedb.writeRelationships(page.map((relationship) => ({ operation: 'touch', relationship })));
    written += page.length;
  }
  return written;
}
