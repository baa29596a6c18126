import { Migration } from '@mikro-orm/migrations';

export class Migration20261125220932Initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "subscription_tier" as enum ('free', 'pro', 'enterprise');`);
    this.addSql(`create type "organization_role" as enum ('owner', 'admin', 'member');`);
    this.addSql(`create type "workspace_role" as enum ('admin', 'editor', 'viewer');`);
    this.addSql(`create table "organizations" ("id" uuid not null, "name" varchar(200) not null, "billing_email" varchar(320) not null, "subscription_tier" "subscription_tier" not null default 'free', "zed_token" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "organizations_pkey" primary key ("id"));`);

    this.addSql(`create table "users" ("id" uuid not null, "username" varchar(32) not null, "email" varchar(320) not null, "password_hash" varchar(255) not null, "created_at" timestamptz not null default now(), constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(`create table "organization_memberships" ("id" uuid not null, "organization_id" uuid not null, "user_id" uuid not null, "role" "organization_role" not null, "created_at" timestamptz not null default now(), constraint "organization_memberships_pkey" primary key ("id"));`);
    this.addSql(`create index "organization_memberships_user_id_index" on "organization_memberships" ("user_id");`);
    this.addSql(`alter table "organization_memberships" add constraint "organization_memberships_organization_id_user_id_unique" unique ("organization_id", "user_id");`);
    // An organization never has two owners, whatever transfers and demotions race.
    this.addSql(`create unique index "organization_memberships_one_owner" on "organization_memberships" ("organization_id") where "role" = 'owner';`);

    this.addSql(`create table "workspaces" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(200) not null, "description" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "workspaces_pkey" primary key ("id"));`);
    this.addSql(`create index "workspaces_organization_id_index" on "workspaces" ("organization_id");`);

    this.addSql(`create table "workspace_memberships" ("id" uuid not null, "workspace_id" uuid not null, "user_id" uuid not null, "role" "workspace_role" not null, "created_at" timestamptz not null default now(), constraint "workspace_memberships_pkey" primary key ("id"));`);
    this.addSql(`create index "workspace_memberships_user_id_index" on "workspace_memberships" ("user_id");`);
    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_workspace_id_user_id_unique" unique ("workspace_id", "user_id");`);

    this.addSql(`alter table "organization_memberships" add constraint "organization_memberships_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "organization_memberships" add constraint "organization_memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspaces" add constraint "workspaces_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspace_memberships" add constraint "workspace_memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

}
