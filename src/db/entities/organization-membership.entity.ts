import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Organization } from './organization.entity.js';
import { User } from './user.entity.js';

export const ORGANIZATION_ROLES = ['owner', 'admin', 'member'] as const;
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number];

/**
 * The system of record for an organization role. The matching SpiceDB tuple is
 * organization:<organization>#<role>@user:<user>. At most one owner per organization is
 * enforced by a partial unique index.
 */
@Entity({ tableName: 'organization_memberships' })
@Unique({ properties: ['organization', 'user'] })
@Unique({
  name: 'organization_memberships_one_owner',
  expression: `create unique index "organization_memberships_one_owner" on "organization_memberships" ("organization_id") where "role" = 'owner'`,
})
export class OrganizationMembership {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => Organization, deleteRule: 'cascade' })
  organization: Organization;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user: User;

  @Enum({ items: () => ORGANIZATION_ROLES, nativeEnumName: 'organization_role' })
  role: OrganizationRole;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  constructor(organization: Organization, user: User, role: OrganizationRole) {
    this.organization = organization;
    this.user = user;
    this.role = role;
  }
}
