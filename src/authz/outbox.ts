import type { EntityManager } from '@mikro-orm/postgresql';
import { RelationshipOutboxEntry } from '../db/entities/index.ts';
import { postgresArray } from '../db/postgres-array.ts';
import type { Relationship } from './types.ts';

/**
 * Grants reach SpiceDB through this outbox: a row written in the same transaction as the Postgres
 * change it mirrors, delivered right after the commit and retried until SpiceDB takes it (see
 * outbox-relay.ts). This side works inside the caller's transaction: it records grants, and drops
 * pending ones that a revocation or a deletion makes stale.
 */
export class RelationshipOutbox {
  /**
   * Records grants in the caller's transaction. Pending rows for the same tuples are superseded
   * first, so an older change can never be delivered after this one.
   */
  async enqueueGrants(em: EntityManager, relationships: Relationship[], organizationId: string | null): Promise<string[]> {
    if (relationships.length === 0) return [];
    await this.supersedePending(em, relationships);
    // One statement however many (a bulk import enqueues a thousand at once).
    const rows = await em.execute<Array<{ id: string | number }>>(
      `insert into relationship_outbox (${TUPLE_COLUMNS}, expires_at, organization_id)
       select t.*, ?::uuid from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[]) as t
       returning id`,
      [
        organizationId,
        ...tupleColumns(relationships),
        postgresArray(relationships.map(({ expiresAt }) => expiresAt?.toISOString() ?? null)),
      ],
    );
    return rows.map(({ id }) => String(id));
  }

  /**
   * Deletes pending rows for these tuples. A row the relay is delivering right now is locked: the
   * delete waits for that delivery to finish, so a revocation written after this cannot be
   * overtaken by the older grant.
   */
  async supersedePending(em: EntityManager, relationships: Relationship[]): Promise<void> {
    if (relationships.length === 0) return;
    await em.execute(
      `delete from relationship_outbox o
        using unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) as t(${TUPLE_COLUMNS})
        where (o.resource_type, o.resource_id, o.relation, o.subject_type, o.subject_id, o.subject_relation)
            = (t.resource_type, t.resource_id, t.relation, t.subject_type, t.subject_id, t.subject_relation)`,
      tupleColumns(relationships),
    );
  }

  /** Deletes every pending row about an organization (it is being deleted). */
  async supersedeOrganization(em: EntityManager, organizationId: string): Promise<void> {
    await em.nativeDelete(RelationshipOutboxEntry, { organizationId });
  }

  /** Deletes every pending row whose resource is this object (it is being deleted). */
  async supersedeResource(em: EntityManager, resourceType: string, resourceId: string): Promise<void> {
    await em.nativeDelete(RelationshipOutboxEntry, { resourceType, resourceId });
  }

  /** Deletes every pending row whose subject is this object (a team being deleted, say). */
  async supersedeSubject(em: EntityManager, subjectType: string, subjectId: string): Promise<void> {
    await em.nativeDelete(RelationshipOutboxEntry, { subjectType, subjectId });
  }
}

const TUPLE_COLUMNS = 'resource_type, resource_id, relation, subject_type, subject_id, subject_relation';

/** The tuples' columns, each as one Postgres array parameter. */
function tupleColumns(relationships: Relationship[]): string[] {
  return [
    relationships.map(({ resource }) => resource.type),
    relationships.map(({ resource }) => resource.id),
    relationships.map(({ relation }) => relation),
    relationships.map(({ subject }) => subject.type),
    relationships.map(({ subject }) => subject.id),
    relationships.map(({ subject }) => subject.relation ?? ''),
  ].map(postgresArray);
}
