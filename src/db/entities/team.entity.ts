import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';

/**
 * A group of an organization's members, which can hold workspace roles. Its SpiceDB tuple
 * team:<id>#organization@organization:<organization> lets the organization's roles see and
 * manage it.
 */
export class Team {
  id: string = randomUUID();
  organization: Organization;
  name: string;
  description: string | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(organization: Organization, name: string, description: string | null = null) {
    this.organization = organization;
    this.name = name;
    this.description = description;
  }
}

export const TeamSchema = new EntitySchema<Team>({
  class: Team,
  tableName: 'teams',
  uniques: [{ properties: ['organization', 'name'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    organization: { kind: 'm:1', entity: () => Organization, deleteRule: 'cascade' },
    name: { type: 'string', length: 200 },
    description: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
