import { Migration } from '@mikro-orm/migrations';

/** A workspace role is held by a user or by a team (every member of which then holds it). */
export class Migration20261204100000TeamWorkspaceRoles extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "workspace_memberships" alter column "user_id" drop not null, add column "team_id" uuid null;`);
    this.addSql(`create index "workspace_memberships_team_id_index" on "workspace_memberships" ("team_id");`);
    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_workspace_id_team_id_unique" unique ("workspace_id", "team_id");`);
    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_team_id_foreign" foreign key ("team_id") references "teams" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_one_holder" check ((user_id is null) <> (team_id is null));`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "workspace_memberships" where "team_id" is not null;`);
    this.addSql(`alter table "workspace_memberships" drop constraint "workspace_memberships_one_holder", drop column "team_id", alter column "user_id" set not null;`);
  }
}
