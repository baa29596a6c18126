import { EntitySchema } from '@mikro-orm/core';

/**
 * A resource another service owns (a chatbot, a knowledge base), under exactly one workspace:
 * its tuple `<type>:<id>#workspace@workspace:<workspace>` carries the workspace's roles down.
 * The organization is the workspace's, kept here so the row can be locked and scoped by it.
 */
export class Resource {
  type: string;
  id: string;
  workspaceId: string;
  organizationId: string;
  /** The service account that registered it, or last moved it. */
  registeredBy: string;
  /** The user that account acted for; null for a trusted account's own write. */
  onBehalfOf: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(init: { type: string; id: string; workspaceId: string; organizationId: string; registeredBy: string; onBehalfOf: string | null }) {
    this.type = init.type;
    this.id = init.id;
    this.workspaceId = init.workspaceId;
    this.organizationId = init.organizationId;
    this.registeredBy = init.registeredBy;
    this.onBehalfOf = init.onBehalfOf;
  }
}

export const ResourceSchema = new EntitySchema<Resource>({
  class: Resource,
  tableName: 'resources',
  properties: {
    type: { type: 'string', length: 64, primary: true },
    id: { type: 'string', length: 128, primary: true },
    workspaceId: { type: 'uuid', index: true },
    organizationId: { type: 'uuid', index: true },
    registeredBy: { type: 'uuid' },
    onBehalfOf: { type: 'uuid', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
