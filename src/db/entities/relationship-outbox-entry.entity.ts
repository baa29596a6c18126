import { EntitySchema } from '@mikro-orm/core';

/**
 * A grant (a relationship to TOUCH) committed in Postgres and not yet confirmed delivered to
 * SpiceDB; revocations never wait here, they reach SpiceDB before the commit. Written
 * in the same transaction as the row it mirrors, so a crash after the commit loses nothing; the
 * relay claims rows with FOR UPDATE SKIP LOCKED, delivers them, and deletes them.
 */
export class RelationshipOutboxEntry {
  /** Assigned by the database (bigserial) on insert. */
  declare id: string;
  resourceType: string;
  resourceId: string;
  relation: string;
  subjectType: string;
  subjectId: string;
  /** For a subject set such as team:<id>#member; '' for a plain object. */
  subjectRelation: string;
  /** When the tuple stops counting; null: never. */
  expiresAt: Date | null;
  /** The organization whose ZedToken the delivery advances (for read-your-writes checks). */
  organizationId: string | null;
  attempts = 0;
  nextAttemptAt: Date = new Date();
  lastError: string | null = null;
  createdAt: Date = new Date();

  constructor(init: {
    resourceType: string;
    resourceId: string;
    relation: string;
    subjectType: string;
    subjectId: string;
    subjectRelation?: string | undefined;
    expiresAt?: Date | null | undefined;
    organizationId: string | null;
  }) {
    this.resourceType = init.resourceType;
    this.resourceId = init.resourceId;
    this.relation = init.relation;
    this.subjectType = init.subjectType;
    this.subjectId = init.subjectId;
    this.subjectRelation = init.subjectRelation ?? '';
    this.expiresAt = init.expiresAt ?? null;
    this.organizationId = init.organizationId;
  }
}

export const RelationshipOutboxEntrySchema = new EntitySchema<RelationshipOutboxEntry>({
  class: RelationshipOutboxEntry,
  tableName: 'relationship_outbox',
  indexes: [
    { name: 'relationship_outbox_tuple_index', properties: ['resourceType', 'resourceId', 'relation', 'subjectType', 'subjectId'] },
  ],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    resourceType: { type: 'string', length: 129 },
    resourceId: { type: 'string', length: 512 },
    relation: { type: 'string', length: 64 },
    subjectType: { type: 'string', length: 129 },
    subjectId: { type: 'string', length: 512 },
    subjectRelation: { type: 'string', length: 64, default: '' },
    expiresAt: { type: 'datetime', nullable: true },
    organizationId: { type: 'uuid', nullable: true },
    attempts: { type: 'integer', default: 0 },
    nextAttemptAt: { type: 'datetime', defaultRaw: 'now()', index: true },
    lastError: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
