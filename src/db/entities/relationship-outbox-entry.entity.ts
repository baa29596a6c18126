import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

export const OUTBOX_OPERATIONS = ['touch', 'delete'] as const;

/**
 * A relationship change committed in Postgres and not yet confirmed delivered to SpiceDB. Written
 * in the same transaction as the row it mirrors, so a crash after the commit loses nothing; the
 * relay claims rows with FOR UPDATE SKIP LOCKED, delivers them, and deletes them.
 */
@Entity({ tableName: 'relationship_outbox' })
@Index({ name: 'relationship_outbox_tuple_index', properties: ['resourceType', 'resourceId', 'relation', 'subjectType', 'subjectId'] })
export class RelationshipOutboxEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Enum({ items: () => OUTBOX_OPERATIONS, nativeEnumName: 'outbox_operation' })
  operation: (typeof OUTBOX_OPERATIONS)[number];

  @Property({ type: 'string', length: 64 })
  resourceType: string;

  @Property({ type: 'string', length: 128 })
  resourceId: string;

  @Property({ type: 'string', length: 64 })
  relation: string;

  @Property({ type: 'string', length: 64 })
  subjectType: string;

  @Property({ type: 'string', length: 128 })
  subjectId: string;

  /** The organization whose ZedToken the delivery advances (for read-your-writes checks). */
  @Property({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @Property({ type: 'integer', default: 0 })
  attempts = 0;

  @Index()
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  nextAttemptAt: Date = new Date();

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
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
