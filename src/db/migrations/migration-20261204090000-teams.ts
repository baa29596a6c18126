import { Migration } from '@mikro-orm/migrations';

/**
 * Teams of an organization, and their members: users, or other teams of the same organization.
 * The outbox learns subject sets (team:<id>#member) and expiring tuples.
 */
export class Migration20261204090000Teams extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "teams" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(200) not null, "description" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "teams_pkey" primary key ("id"));`);
    this.addSql(`alter table "teams" add constraint "teams_organization_id_name_unique" unique ("organization_id", "name");`);
    this.addSql(`alter table "teams" add constraint "teams_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`create table "team_memberships" ("id" uuid not null, "team_id" uuid not null, "user_id" uuid null, "member_team_id" uuid null, "created_at" timestamptz not null default now(), constraint "team_memberships_pkey" primary key ("id"), constraint "team_memberships_one_subject" check ((user_id is null) <> (member_team_id is null)));`);
    this.addSql(`create index "team_memberships_user_id_index" on "team_memberships" ("user_id");`);
    this.addSql(`create index "team_memberships_member_team_id_index" on "team_memberships" ("member_team_id");`);
    this.addSql(`alter table "team_memberships" add constraint "team_memberships_team_id_user_id_unique" unique ("team_id", "user_id");`);
    this.addSql(`alter table "team_memberships" add constraint "team_memberships_team_id_member_team_id_unique" unique ("team_id", "member_team_id");`);
    this.addSql(`alter table "team_memberships" add constraint "team_memberships_team_id_foreign" foreign key ("team_id") references "teams" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "team_memberships" add constraint "team_memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "team_memberships" add constraint "team_memberships_member_team_id_foreign" foreign key ("member_team_id") references "teams" ("id") on update cascade on delete cascade;`);
    // `if not exists`: the resource-sharing migration adds the same expiry column.
    this.addSql(`alter table "relationship_outbox" add column "subject_relation" varchar(64) not null default '', add column if not exists "expires_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "relationship_outbox" drop column if exists "subject_relation", drop column if exists "expires_at";`);
    this.addSql(`drop table if exists "team_memberships" cascade;`);
    this.addSql(`drop table if exists "teams" cascade;`);
  }
}
