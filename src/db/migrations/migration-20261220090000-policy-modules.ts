import { Migration } from '@mikro-orm/migrations';

/**
 * Policy modules: the system of record for the relationships of module types (`docs/folder`,
 * `todo/list`), which services write through their own accounts (`service_accounts.modules`).
 * Ids are the services' own (up to 512 characters; object-ids.ts encodes them for SpiceDB). A
 * relationship that names a workspace, team or organization carries that tenant's organization:
 * it goes with the organization, and deleting a workspace or team finds it by its subject.
 * `written_by` is the service account that wrote it (null: the operator's import, `relationships import`).
 * The outbox carries module tuples too, so its type and id columns widen to module sizes.
 */
export class Migration20261220090000PolicyModules extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "service_accounts" add column "modules" text[] not null default '{}';`);
    this.addSql(`create table "module_relationships" (
  "module" varchar(64) not null,
  "resource_type" varchar(129) not null,
  "resource_id" varchar(512) not null,
  "relation" varchar(64) not null,
  "subject_type" varchar(129) not null,
  "subject_id" varchar(512) not null,
  "subject_relation" varchar(64) not null default '',
  "organization_id" uuid null references "organizations" ("id") on delete cascade,
  "written_by" uuid null,
  "created_at" timestamptz not null default now(),
  constraint "module_relationships_pkey" primary key ("resource_type", "resource_id", "relation", "subject_type", "subject_id", "subject_relation"));`);
    this.addSql(`create index "module_relationships_subject_index" on "module_relationships" ("subject_type", "subject_id");`);
    this.addSql(`create index "module_relationships_organization_index" on "module_relationships" ("organization_id");`);
    this.addSql(`create index "module_relationships_module_index" on "module_relationships" ("module");`);
    this.addSql(`alter table "relationship_outbox"
  alter column "resource_type" type varchar(129),
  alter column "resource_id" type varchar(512),
  alter column "subject_type" type varchar(129),
  alter column "subject_id" type varchar(512);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "module_relationships";`);
    this.addSql(`alter table "service_accounts" drop column "modules";`);
  }
}
