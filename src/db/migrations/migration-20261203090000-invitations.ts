import { Migration } from '@mikro-orm/migrations';

/** Invitations by email (only a hash of each token) and the outbox their messages go through. */
export class Migration20261203090000Invitations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "invitations" ("id" uuid not null, "organization_id" uuid not null, "email" varchar(254) not null, "role" varchar(16) not null, "workspaces" jsonb not null, "token_hash" varchar(64) not null, "state" varchar(16) not null default 'pending', "delivery" varchar(16) not null default 'pending', "invited_by_id" uuid not null, "accepted_by" uuid null, "expires_at" timestamptz not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "invitations_pkey" primary key ("id"));`);
    this.addSql(`create index "invitations_email_index" on "invitations" ("email");`);
    this.addSql(`alter table "invitations" add constraint "invitations_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create unique index "invitations_one_pending_per_email" on "invitations" ("organization_id", "email") where "state" = 'pending';`);
    this.addSql(`alter table "invitations" add constraint "invitations_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "invitations" add constraint "invitations_invited_by_id_foreign" foreign key ("invited_by_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`create table "mail_outbox" ("id" bigserial primary key, "invitation_id" uuid null, "recipient" varchar(254) not null, "subject" text not null, "text" text not null, "html" text not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "last_error" text null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "mail_outbox_invitation_id_index" on "mail_outbox" ("invitation_id");`);
    this.addSql(`create index "mail_outbox_next_attempt_at_index" on "mail_outbox" ("next_attempt_at");`);
    this.addSql(`alter table "mail_outbox" add constraint "mail_outbox_invitation_id_foreign" foreign key ("invitation_id") references "invitations" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mail_outbox" cascade;`);
    this.addSql(`drop table if exists "invitations" cascade;`);
  }
}
