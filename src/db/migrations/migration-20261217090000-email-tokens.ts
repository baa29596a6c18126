import { Migration } from '@mikro-orm/migrations';

/**
 * Single-use tokens mailed to an account's address: `verify_email` (proves the address) and
 * `reset_password` (chooses a new password). Only the SHA-256 of a token is kept; `email` is the
 * address it was sent to, so a token stops working if the account's address is no longer that one.
 * A session can now also end because the password was reset or changed (`sign_in_sessions.ended_by`).
 */
export class Migration20261217090000EmailTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "email_tokens" ("id" uuid not null primary key, "user_id" uuid not null, "purpose" varchar(16) not null, ` +
        `"token_hash" varchar(64) not null, "email" varchar(320) not null, "created_at" timestamptz not null default now(), ` +
        `"expires_at" timestamptz not null, "used_at" timestamptz null);`,
    );
    this.addSql(`create unique index "email_tokens_token_hash_unique" on "email_tokens" ("token_hash");`);
    this.addSql(`create index "email_tokens_user_purpose_index" on "email_tokens" ("user_id", "purpose", "created_at");`);
    this.addSql(
      `alter table "email_tokens" add constraint "email_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "sign_in_sessions" drop constraint "sign_in_sessions_ended_by_check";`);
    this.addSql(
      `alter table "sign_in_sessions" add constraint "sign_in_sessions_ended_by_check" check ("ended_by" is null or ` +
        `("ended_by" in ('signed_out', 'token_reused', 'password_reset', 'password_changed') and "ended_at" is not null));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sign_in_sessions" drop constraint "sign_in_sessions_ended_by_check";`);
    this.addSql(
      `alter table "sign_in_sessions" add constraint "sign_in_sessions_ended_by_check" check ("ended_by" is null or ` +
        `("ended_by" in ('signed_out', 'token_reused') and "ended_at" is not null));`,
    );
    this.addSql(`drop table if exists "email_tokens" cascade;`);
  }
}
