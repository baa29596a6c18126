import { Migration } from '@mikro-orm/migrations';

/**
 * TOTP second factors (RFC 6238): one per user, its secret sealed with a key derived from the
 * server secret, usable once confirmed; `last_used_step` refuses a code used once from being used
 * again within its window. Ten single-use recovery codes per factor, stored as SHA-256. A login
 * of an account with a factor answers a challenge (stored as a hash, five minutes, five tries);
 * every wrong code is a row of `mfa_failures`, which throttles per account and per address.
 * A session records how it signed in (`amr`, RFC 8176).
 */
export class Migration20261218100000SecondFactors extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "totp_factors" ("user_id" uuid not null, "sealed_secret" text not null, "confirmed_at" timestamptz null, "last_used_step" bigint null, "created_at" timestamptz not null default now(), constraint "totp_factors_pkey" primary key ("user_id"), constraint "totp_factors_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
    this.addSql(`create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" char(64) not null, "used_at" timestamptz null, constraint "recovery_codes_pkey" primary key ("id"), constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
    this.addSql(`create unique index "recovery_codes_user_code_unique" on "recovery_codes" ("user_id", "code_hash");`);
    this.addSql(`create table "mfa_challenges" ("id" uuid not null, "token_hash" char(64) not null, "user_id" uuid not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "failures" int not null default 0, "created_at" timestamptz not null default now(), constraint "mfa_challenges_pkey" primary key ("id"), constraint "mfa_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
    this.addSql(`create unique index "mfa_challenges_token_hash_unique" on "mfa_challenges" ("token_hash");`);
    this.addSql(`create index "mfa_challenges_user_id_index" on "mfa_challenges" ("user_id");`);
    this.addSql(`create table "mfa_failures" ("user_id" uuid not null, "client_address" varchar(64) null, "failed_at" timestamptz not null default now(), constraint "mfa_failures_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
    this.addSql(`create index "mfa_failures_user_index" on "mfa_failures" ("user_id", "failed_at");`);
    this.addSql(`create index "mfa_failures_address_index" on "mfa_failures" ("client_address", "failed_at");`);
    this.addSql(`alter table "sign_in_sessions" add column "amr" text[] not null default '{pwd}';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sign_in_sessions" drop column "amr";`);
    this.addSql(`drop table if exists "mfa_failures" cascade;`);
    this.addSql(`drop table if exists "mfa_challenges" cascade;`);
    this.addSql(`drop table if exists "recovery_codes" cascade;`);
    this.addSql(`drop table if exists "totp_factors" cascade;`);
  }
}
