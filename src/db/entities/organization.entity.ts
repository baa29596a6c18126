import { randomUUID } from 'node:crypto';
import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';

export const SUBSCRIPTION_TIERS = ['free', 'pro', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];

@Entity({ tableName: 'organizations' })
export class Organization {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200 })
  name: string;

  @Property({ type: 'string', length: 320 })
  billingEmail: string;

  @Enum({ items: () => SUBSCRIPTION_TIERS, nativeEnumName: 'subscription_tier', default: 'free' })
  subscriptionTier: SubscriptionTier = 'free';

  /** Newest ZedToken of a write about this organization: checks ask for at least this revision. */
  @Property({ type: 'text', nullable: true })
  zedToken: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(name: string, billingEmail: string) {
    this.name = name;
    this.billingEmail = billingEmail;
  }
}
