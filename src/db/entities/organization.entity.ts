import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

export const SUBSCRIPTION_TIERS = ['free', 'pro', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];

export class Organization {
  id: string = randomUUID();
  name: string;
  billingEmail: string;
  subscriptionTier: SubscriptionTier = 'free';
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
    zedToken: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
