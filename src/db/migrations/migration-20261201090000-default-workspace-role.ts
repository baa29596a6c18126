import { Migration } from '@mikro-orm/migrations';

/**
 * The role a new organization member gets in the organization's default workspace. Existing
 * organizations get 'viewer' too: it applies to members who join from now on, never to those
 * already in.
 */
export class Migration20261201090000DefaultWorkspaceRole extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "default_workspace_role" as enum ('none', 'viewer', 'editor');`);
    this.addSql(
      `alter table "organizations" add column "default_workspace_role" "default_workspace_role" not null default 'viewer';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "organizations" drop column "default_workspace_role";`);
    this.addSql(`drop type "default_workspace_role";`);
  }
}
