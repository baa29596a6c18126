import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { User } from './user.entity.ts';

export const ORGANIZATION_ROLES = ['owner', 'admin', 'member'] as const;
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number];

/**
 * The system of record for an organization role. The matching SpiceDB tuple is
 * organization:<organization>#<role>@user:<user>. At most one owner per organization is
 * enforced by a partial unique index.
 */
export class OrganizationMembership {
  id: string = randomUUID();
  organization: Organization;
  user: User;
  role: OrganizationRole;
  createdAt: Date = new Date();

  constructor(organization: Organization, user: User, role: OrganizationRole) {
    this.organization = organization;
    this.user = user;
    this.role = role;
  }
}

export const OrganizationMembershipSchema = new EntitySchema<OrganizationMembership>({
  class: OrganizationMembership,
  tableName: 'organization_memberships',
  uniques: [
    { properties: ['organization', 'user'] },
    {
      name: 'organization_memberships_one_owner',
      expression: `create unique index "organization_memberships_one_owner" on "organization_memberships" ("organization_id") where "role" = 'owner'`,
    },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    organization: { kind: 'm:1', entity: () => Organization, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    role: { enum: true, items: () => ORGANIZATION_ROLES, nativeEnumName: 'organization_role' },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
