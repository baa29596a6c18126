import { Migration } from '@mikro-orm/migrations';

/**
 * An organization may require a second factor of its members (`require_mfa`): while it does, its
 * tuples `mfa_required@user:*` and `mfa_registry@mfa_registry:enrolled` exist, and schema.zed
 * grants nothing in it to a member without a factor.
 */
export class Migration20261218110000RequireMfa extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "organizations" add column "require_mfa" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "organizations" drop column "require_mfa";`);
  }
}
