import { Migration } from '@mikro-orm/migrations';

export class Migration20261125230932ServiceAccounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "service_accounts" ("id" uuid not null, "name" varchar(100) not null, "key_hash" varchar(64) not null, "writable_types" text[] not null, "created_at" timestamptz not null default now(), "revoked_at" timestamptz null, constraint "service_accounts_pkey" primary key ("id"));`);
    this.addSql(`alter table "service_accounts" add constraint "service_accounts_name_unique" unique ("name");`);
    this.addSql(`alter table "service_accounts" add constraint "service_accounts_key_hash_unique" unique ("key_hash");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "service_accounts" cascade;`);
  }
}
