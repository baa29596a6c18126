import type { EntityManager } from '@mikro-orm/postgresql';
import { RelationshipOutboxEntry } from '../db/entities/index.ts';
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
    await this.supersedePending(em, relationships);
    const entries = relationships.map(
      ({ resource, relation, subject, expiresAt }) =>
        new RelationshipOutboxEntry({
          resourceType: resource.type,
          resourceId: resource.id,
          relation,
          subjectType: subject.type,
          subjectId: subject.id,
          subjectRelation: subject.relation,
          expiresAt,
          organizationId,
        }),
    );
    em.persist(entries);
    await em.flush();
    return entries.map((entry) => String(entry.id));
  }

  /**
   * Deletes pending rows for these tuples. A row the relay is delivering right now is locked: the
   * delete waits for that delivery to finish, so a revocation written after this cannot be
   * overtaken by the older grant.
   */
  async supersedePending(em: EntityManager, relationships: Relationship[]): Promise<void> {
    if (relationships.length === 0) return;
    const tuples = relationships.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
    await em.execute(
      `delete from relationship_outbox
        where (resource_type, resource_id, relation, subject_type, subject_id, subject_relation) in (${tuples})`,
      relationships.flatMap(({ resource, relation, subject }) => [
        resource.type,
        resource.id,
        relation,
        subject.type,
        subject.id,
        subject.relation ?? '',
      ]),
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
