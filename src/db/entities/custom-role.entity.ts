import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';

/**
 * A role an organization defines from the permission catalogue (src/roles/role-catalogue.ts). Its
 * tuples: role:<id>#organization@organization:<org>, organization:<org>#role@role:<id>, and one
 * role:<id>#grants_<permission>@user:* per permission it grants.
 */
export class CustomRole {
  id: string = randomUUID();
  organization: Organization;
  name: string;
  description: string | null = null;
  /** Catalogue names (`org:billing`, `workspace:view`), sorted. */
  permissions: string[];
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(organization: Organization, name: string, description: string | null, permissions: string[]) {
    this.organization = organization;
    this.name = name;
    this.description = description;
    this.permissions = permissions;
  }
}

export const CustomRoleSchema = new EntitySchema<CustomRole>({
  class: CustomRole,
  tableName: 'custom_roles',
  uniques: [{ properties: ['organization', 'name'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    organization: { kind: 'm:1', entity: () => Organization, deleteRule: 'cascade' },
    name: { type: 'string', length: 200 },
    description: { type: 'text', nullable: true },
    permissions: { type: 'text[]' },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
