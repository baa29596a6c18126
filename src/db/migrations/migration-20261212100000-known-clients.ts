import { Migration } from '@mikro-orm/migrations';

/**
 * The clients each account signed in from successfully (src/services/known-clients.ts): its
 * addresses, and the SHA-256 of each device token it was given, with the time of the latest
 * success. A known client is judged by its own login buckets only and hashes in its own lane.
 */
export class Migration20261212100000KnownClients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "known_clients" ("user_id" uuid not null, "kind" varchar(8) not null, "client" varchar(100) not null, "last_signed_in_at" timestamptz not null default now(), constraint "known_clients_pkey" primary key ("user_id", "kind", "client"), constraint "known_clients_kind_check" check ("kind" in ('address', 'device')));`);
    this.addSql(`alter table "known_clients" add constraint "known_clients_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "known_clients" cascade;`);
  }
}
