import { Migration } from '@mikro-orm/migrations';

/**
 * Direct grants on service-owned resources, the system of record for their `viewer`/`editor`
 * tuples: one row per (resource, role, subject), removed with its resource. A grant may expire;
 * the outbox row that delivers it carries the expiry in `relationship_outbox.expires_at`, added
 * with the teams (migration-20261204090000-teams).
 */
export class Migration20261205090000ResourceGrants extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "resource_grants" ("id" uuid not null, "resource_type" varchar(64) not null, "resource_id" varchar(128) not null, "role" varchar(16) not null, "subject_type" varchar(64) not null, "subject_id" varchar(128) not null, "expires_at" timestamptz null, "granted_by" uuid not null, "on_behalf_of" uuid null, "created_at" timestamptz not null default now(), constraint "resource_grants_pkey" primary key ("id"));`);
    this.addSql(`alter table "resource_grants" add constraint "resource_grants_tuple_unique" unique ("resource_type", "resource_id", "role", "subject_type", "subject_id");`);
    this.addSql(`create index "resource_grants_subject_index" on "resource_grants" ("subject_type", "subject_id");`);
    this.addSql(`alter table "resource_grants" add constraint "resource_grants_resource_foreign" foreign key ("resource_type", "resource_id") references "resources" ("type", "id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "resource_grants" cascade;`);
  }
}
