import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

/** The roles a direct grant gives; each is a relation of every service-owned definition in schema.zed. */
export const GRANT_ROLES = ['viewer', 'editor'] as const;
export type GrantRole = (typeof GRANT_ROLES)[number];

/**
 * A direct grant on a service-owned resource, the system of record for the tuple
 * `<type>:<id>#<role>@<subject>` (with its expiry). Removed with its resource (a foreign key on
 * (resource_type, resource_id) cascades); kept when the resource moves.
 */
export class ResourceGrant {
  id: string = randomUUID();
  resourceType: string;
  resourceId: string;
  role: GrantRole;
  subjectType: string;
  /** A user id, or `*` for every user (public access). */
  subjectId: string;
  /** When the grant stops counting; null: never. */
  expiresAt: Date | null;
  /** The service account that wrote it (or last changed its expiry). */
  grantedBy: string;
  /** The user that account acted for; null for a trusted account's own write. */
  onBehalfOf: string | null;
  createdAt: Date = new Date();

  constructor(init: {
    resourceType: string;
    resourceId: string;
    role: GrantRole;
    subjectType: string;
    subjectId: string;
    expiresAt: Date | null;
    grantedBy: string;
    onBehalfOf: string | null;
  }) {
    this.resourceType = init.resourceType;
    this.resourceId = init.resourceId;
    this.role = init.role;
    this.subjectType = init.subjectType;
    this.subjectId = init.subjectId;
    this.expiresAt = init.expiresAt;
    this.grantedBy = init.grantedBy;
    this.onBehalfOf = init.onBehalfOf;
  }
}

export const ResourceGrantSchema = new EntitySchema<ResourceGrant>({
  class: ResourceGrant,
  tableName: 'resource_grants',
  uniques: [{ name: 'resource_grants_tuple_unique', properties: ['resourceType', 'resourceId', 'role', 'subjectType', 'subjectId'] }],
  indexes: [{ name: 'resource_grants_subject_index', properties: ['subjectType', 'subjectId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    resourceType: { type: 'string', length: 64 },
    resourceId: { type: 'string', length: 128 },
    role: { type: 'string', length: 16 },
    subjectType: { type: 'string', length: 64 },
    subjectId: { type: 'string', length: 128 },
    expiresAt: { type: 'datetime', nullable: true },
    grantedBy: { type: 'uuid' },
    onBehalfOf: { type: 'uuid', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
