import { Migration } from '@mikro-orm/migrations';

/**
 * The subscription tier is set by a trusted path only: a service account created to set tiers
 * (a billing system, after payment) or an operator at the CLI, never an organization's owner.
 */
export class Migration20261211090000SubscriptionTierSetters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "service_accounts" add column "sets_subscription_tiers" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "service_accounts" drop column "sets_subscription_tiers";`);
  }
}
