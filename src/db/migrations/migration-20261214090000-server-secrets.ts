import { Migration } from '@mikro-orm/migrations';

/**
 * Secrets every instance must share and none may generate alone: the first instance to boot
 * inserts one (`on conflict do nothing`), and every instance reads the row that won. `sealing`
 * is whence the keys of the ZedTokens and cursors handed to clients are derived (SERVER_SECRET,
 * when configured, takes its place and nothing is stored).
 */
export class Migration20261214090000ServerSecrets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "server_secrets" ("name" varchar(50) not null, "secret" bytea not null, "created_at" timestamptz not null default now(), constraint "server_secrets_pkey" primary key ("name"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "server_secrets" cascade;`);
  }
}
