import { Migration } from '@mikro-orm/migrations';

/**
 * Resources other services own (chatbots, knowledge bases), recorded in Postgres like every other
 * source of a tuple: one parent workspace each. Service accounts may be trusted (write without
 * acting for a user) and scoped to named organizations.
 */
export class Migration20261126090000Resources extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "resources" ("type" varchar(64) not null, "id" varchar(128) not null, "workspace_id" uuid not null, "organization_id" uuid not null, "registered_by" uuid not null, "on_behalf_of" uuid null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "resources_pkey" primary key ("type", "id"));`);
    this.addSql(`create index "resources_workspace_id_index" on "resources" ("workspace_id");`);
    this.addSql(`create index "resources_organization_id_index" on "resources" ("organization_id");`);
    this.addSql(`alter table "resources" add constraint "resources_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "resources" add constraint "resources_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "service_accounts" add column "trusted" boolean not null default false, add column "organization_ids" uuid[] null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "service_accounts" drop column "trusted", drop column "organization_ids";`);
    this.addSql(`drop table if exists "resources" cascade;`);
  }
}
