import { Migration } from '@mikro-orm/migrations';

/**
 * A row per sign-in session (refresh-token family): its end is the session's state, which refresh,
 * switch-context, logout and reuse detection lock and read, instead of a mark on each refresh token
 * (which a refresh racing the revocation could add a new, unmarked token beside). Existing families
 * become sessions, ended where any of their tokens was revoked; why they ended was not recorded
 * then, so their `ended_by` stays null.
 */
export class Migration20261212090000SignInSessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "sign_in_sessions" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null default now(), "ended_at" timestamptz null, "ended_by" varchar(16) null, constraint "sign_in_sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sign_in_sessions_user_id_index" on "sign_in_sessions" ("user_id");`);
    this.addSql(`alter table "sign_in_sessions" add constraint "sign_in_sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "sign_in_sessions" add constraint "sign_in_sessions_ended_by_check" check ("ended_by" is null or ("ended_by" in ('signed_out', 'token_reused') and "ended_at" is not null));`);
    this.addSql(`insert into "sign_in_sessions" ("id", "user_id", "created_at", "ended_at", "ended_by")
      select "family_id", (array_agg("user_id"))[1], min("created_at"), max("revoked_at"), null
        from "refresh_tokens" group by "family_id";`);
    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_family_id_foreign" foreign key ("family_id") references "sign_in_sessions" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "refresh_tokens" drop column "revoked_at";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "refresh_tokens" add column "revoked_at" timestamptz null;`);
    this.addSql(`update "refresh_tokens" t set "revoked_at" = s."ended_at" from "sign_in_sessions" s where s."id" = t."family_id";`);
    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_family_id_foreign";`);
    this.addSql(`drop table if exists "sign_in_sessions" cascade;`);
  }
}
