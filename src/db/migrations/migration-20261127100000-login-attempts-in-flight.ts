import { Migration } from '@mikro-orm/migrations';

/**
 * Login failures are counted per (account, address), per account and per address (failures only);
 * an attempt whose password is still being hashed is recorded unsettled, counted, and deleted when
 * the password was right. Earlier rows (`email:` subjects) simply age out of the window.
 */
export class Migration20261127100000LoginAttemptsInFlight extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "login_failures" add column "settled" boolean not null default true;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "login_failures" drop column "settled";`);
  }
}
