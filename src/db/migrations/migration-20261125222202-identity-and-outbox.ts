import { Migration } from '@mikro-orm/migrations';

export class Migration20261125222202IdentityAndOutbox extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "outbox_operation" as enum ('touch', 'delete');`);
    this.addSql(`create table "login_failures" ("id" bigserial primary key, "subject" varchar(400) not null, "failed_at" timestamptz not null default now());`);
    this.addSql(`create index "login_failures_subject_failed_at_index" on "login_failures" ("subject", "failed_at");`);

    this.addSql(`create table "relationship_outbox" ("id" bigserial primary key, "operation" "outbox_operation" not null, "resource_type" varchar(64) not null, "resource_id" varchar(128) not null, "relation" varchar(64) not null, "subject_type" varchar(64) not null, "subject_id" varchar(128) not null, "organization_id" uuid null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "last_error" text null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "relationship_outbox_next_attempt_at_index" on "relationship_outbox" ("next_attempt_at");`);
    this.addSql(`create index "relationship_outbox_tuple_index" on "relationship_outbox" ("resource_type", "resource_id", "relation", "subject_type", "subject_id");`);

    this.addSql(`create table "signing_keys" ("kid" varchar(64) not null, "algorithm" varchar(16) not null, "public_jwk" jsonb not null, "private_jwk" jsonb null, "created_at" timestamptz not null default now(), constraint "signing_keys_pkey" primary key ("kid"));`);

    this.addSql(`create table "refresh_tokens" ("id" uuid not null, "token_hash" varchar(64) not null, "family_id" uuid not null, "user_id" uuid not null, "organization_id" uuid null, "workspace_id" uuid null, "expires_at" timestamptz not null, "used_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "refresh_tokens_pkey" primary key ("id"));`);
    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "refresh_tokens_family_id_index" on "refresh_tokens" ("family_id");`);
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id");`);

    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "login_failures" cascade;`);

    this.addSql(`drop table if exists "relationship_outbox" cascade;`);

    this.addSql(`drop table if exists "signing_keys" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop type "outbox_operation";`);
  }

}
