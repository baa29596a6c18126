import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Organization } from './organization.entity.js';

/** Its SpiceDB tuple workspace:<id>#organization@organization:<organization> carries the org roles down. */
@Entity({ tableName: 'workspaces' })
export class Workspace {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => Organization, deleteRule: 'cascade', index: true })
  organization: Organization;

  @Property({ type: 'string', length: 200 })
  name: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(organization: Organization, name: string, description: string | null = null) {
    this.organization = organization;
    this.name = name;
    this.description = description;
  }
}
