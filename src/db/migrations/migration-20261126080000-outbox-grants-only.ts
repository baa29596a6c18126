import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox only ever carried grants (revocations go to SpiceDB before the commit), so its
 * `operation` column, always 'touch', goes.
 */
export class Migration20261126080000OutboxGrantsOnly extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "relationship_outbox" drop column "operation";`);
    this.addSql(`drop type "outbox_operation";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create type "outbox_operation" as enum ('touch', 'delete');`);
    this.addSql(`alter table "relationship_outbox" add column "operation" "outbox_operation" not null default 'touch';`);
  }
}
