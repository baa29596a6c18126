import { Migration } from '@mikro-orm/migrations';

/**
 * An audit event's `on_behalf_of` becomes `{type: 'user', id}`, as the authorization API names the
 * user a service acts for. The type gets a column of its own; rows recorded before it stay null
 * there and keep reading as the bare id they were hashed with, so every chain still verifies.
 */
export class Migration20261215090000AuditOnBehalfOfType extends Migration {
  override up(): void {
    this.addSql(`alter table "audit_events" add column "on_behalf_of_type" varchar(50) null;`);
  }

  override down(): void {
    this.addSql(`alter table "audit_events" drop column "on_behalf_of_type";`);
  }
}
