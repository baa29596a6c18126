import { EntitySchema } from '@mikro-orm/core';

export const OUTBOX_OPERATIONS = ['touch', 'delete'] as const;

/**
 * A relationship change committed in Postgres and not yet confirmed delivered to SpiceDB. Written
 * in the same transaction as the row it mirrors, so a crash after the commit loses nothing; the
 * relay claims rows with FOR UPDATE SKIP LOCKED, delivers them, and deletes them.
 */
export class RelationshipOutboxEntry {
  /** Assigned by the database (bigserial) on insert. */
  declare id: string;
  operation: (typeof OUTBOX_OPERATIONS)[number];
  resourceType: string;
  resourceId: string;
  relation: string;
  subjectType: string;
  subjectId: string;
  /** The organization whose ZedToken the delivery advances (for read-your-writes checks). */
  organizationId: string | null;
  attempts = 0;
  nextAttemptAt: Date = new Date();
  lastError: string | null = null;
  createdAt: Date = new Date();

  constructor(init: {
    operation: RelationshipOutboxEntry['operation'];
    resourceType: string;
    resourceId: string;
    relation: string;
    subjectType: string;
    subjectId: string;
    organizationId: string | null;
  }) {
    this.operation = init.operation;
    this.resourceType = init.resourceType;
    this.resourceId = init.resourceId;
    this.relation = init.relation;
    this.subjectType = init.subjectType;
    this.subjectId = init.subjectId;
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
    operation: { enum: true, items: () => OUTBOX_OPERATIONS, nativeEnumName: 'outbox_operation' },
    resourceType: { type: 'string', length: 64 },
    resourceId: { type: 'string', length: 128 },
    relation: { type: 'string', length: 64 },
    subjectType: { type: 'string', length: 64 },
    subjectId: { type: 'string', length: 128 },
    organizationId: { type: 'uuid', nullable: true },
    attempts: { type: 'integer', default: 0 },
    nextAttemptAt: { type: 'datetime', defaultRaw: 'now()', index: true },
    lastError: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
