import { Migration } from '@mikro-orm/migrations';

/**
 * Custom roles (issue 34): an organization's roles made from the permission catalogue, and who
 * holds each, across the organization or in one workspace. One assignment per role, holder and
 * place: the unique index treats "no workspace" as a place of its own (nulls not distinct).
 */
export class Migration20261219090000CustomRoles extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "custom_roles" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(200) not null, "description" text null, "permissions" text[] not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "custom_roles_pkey" primary key ("id"));`);
    this.addSql(`alter table "custom_roles" add constraint "custom_roles_organization_id_name_unique" unique ("organization_id", "name");`);
    this.addSql(`alter table "custom_roles" add constraint "custom_roles_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`create table "custom_role_assignments" ("id" uuid not null, "role_id" uuid not null, "user_id" uuid null, "team_id" uuid null, "workspace_id" uuid null, "created_at" timestamptz not null default now(), constraint "custom_role_assignments_pkey" primary key ("id"), constraint "custom_role_assignments_one_holder" check ((user_id is null) <> (team_id is null)));`);
    this.addSql(`create index "custom_role_assignments_user_id_index" on "custom_role_assignments" ("user_id");`);
    this.addSql(`create index "custom_role_assignments_team_id_index" on "custom_role_assignments" ("team_id");`);
    this.addSql(`create index "custom_role_assignments_workspace_id_index" on "custom_role_assignments" ("workspace_id");`);
    this.addSql(`create unique index "custom_role_assignments_place_unique" on "custom_role_assignments" ("role_id", "user_id", "team_id", "workspace_id") nulls not distinct;`);
    this.addSql(`alter table "custom_role_assignments" add constraint "custom_role_assignments_role_id_foreign" foreign key ("role_id") references "custom_roles" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "custom_role_assignments" add constraint "custom_role_assignments_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "custom_role_assignments" add constraint "custom_role_assignments_team_id_foreign" foreign key ("team_id") references "teams" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "custom_role_assignments" add constraint "custom_role_assignments_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "custom_role_assignments" cascade;`);
    this.addSql(`drop table if exists "custom_roles" cascade;`);
  }
}
