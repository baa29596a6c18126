import { Migration } from '@mikro-orm/migrations';

/** A workspace membership may end at a set time (guests, contractors): SpiceDB's relationship expiration. */
export class Migration20261204110000ExpiringWorkspaceMemberships extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "workspace_memberships" add column "expires_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "workspace_memberships" drop column "expires_at";`);
  }
}
