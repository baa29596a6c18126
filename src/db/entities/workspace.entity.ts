import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';

/** Its SpiceDB tuple workspace:<id>#organization@organization:<organization> carries the org roles down. */
export class Workspace {
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

export const WorkspaceSchema = new EntitySchema<Workspace>({
  class: Workspace,
  tableName: 'workspaces',
  properties: {
    id: { type: 'uuid', primary: true },
    organization: { kind: 'm:1', entity: () => Organization, deleteRule: 'cascade', index: true },
    name: { type: 'string', length: 200 },
    description: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
