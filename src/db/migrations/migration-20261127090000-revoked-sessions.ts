import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions (refresh-token families, the `sid` of access tokens) ended by logout or by refresh-token
 * reuse. A row only matters until the last access token of its session expires (`expires_at`).
 */
export class Migration20261127090000RevokedSessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "revoked_sessions" ("session_id" uuid not null, "revoked_at" timestamptz not null default now(), "expires_at" timestamptz not null, constraint "revoked_sessions_pkey" primary key ("session_id"));`);
    this.addSql(`create index "revoked_sessions_expires_at_index" on "revoked_sessions" ("expires_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "revoked_sessions" cascade;`);
  }
}
