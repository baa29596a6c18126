import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

export const SUBSCRIPTION_TIERS = ['free', 'pro', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];

/** The role a new member gets in the organization's default workspace when they join ('none': no workspace). */
export const DEFAULT_WORKSPACE_ROLES = ['none', 'viewer', 'editor'] as const;
export type DefaultWorkspaceRole = (typeof DEFAULT_WORKSPACE_ROLES)[number];

export class Organization {
  id: string = randomUUID();
  name: string;
  billingEmail: string;
  subscriptionTier: SubscriptionTier = 'free';
  /**
   * Viewer by default: a new member lands on a workspace they can read, as in most team products,
   * but changes nothing until someone makes them an editor.
   */
  defaultWorkspaceRole: DefaultWorkspaceRole = 'viewer';
  /** Whether every member needs a second factor: until they enrol, schema.zed grants them nothing here. */
  requireMfa = false;
  /** Newest ZedToken of a write about this organization: checks ask for at least this revision. */
  zedToken: string | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(name: string, billingEmail: string) {
    this.name = name;
    this.billingEmail = billingEmail;
  }
}

export const OrganizationSchema = new EntitySchema<Organization>({
  class: Organization,
  tableName: 'organizations',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', length: 200 },
    billingEmail: { type: 'string', length: 320 },
    subscriptionTier: { enum: true, items: () => SUBSCRIPTION_TIERS, nativeEnumName: 'subscription_tier', default: 'free' },
    defaultWorkspaceRole: {
      enum: true,
      items: () => DEFAULT_WORKSPACE_ROLES,
      nativeEnumName: 'default_workspace_role',
      default: 'viewer',
    },
    requireMfa: { type: 'boolean', default: false },
    zedToken: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
