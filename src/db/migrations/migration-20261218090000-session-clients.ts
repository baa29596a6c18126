import { Migration } from '@mikro-orm/migrations';

/**
 * What a person needs to recognise their sessions (GET /auth/me/sessions): the address and user
 * agent of the sign-in or of the refresh that last used it, and when that was. A session can now
 * also end because its user ended it from another one (`ended_by_user`) or deleted the account
 * (`account_deleted`, recorded in revoked_sessions only: the row goes with the user).
 */
export class Migration20261218090000SessionClients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sign_in_sessions" add column "last_used_at" timestamptz null, add column "client_address" varchar(64) null, add column "user_agent" varchar(256) null;`);
    this.addSql(`update "sign_in_sessions" set "last_used_at" = "created_at";`);
    this.addSql(`alter table "sign_in_sessions" alter column "last_used_at" set default now(), alter column "last_used_at" set not null;`);
    this.addSql(`alter table "sign_in_sessions" drop constraint "sign_in_sessions_ended_by_check";`);
    this.addSql(`alter table "sign_in_sessions" add constraint "sign_in_sessions_ended_by_check" check ("ended_by" is null or ("ended_by" in ('signed_out', 'token_reused', 'password_reset', 'password_changed', 'ended_by_user', 'account_deleted') and "ended_at" is not null));`);
    this.addSql(`create index "sign_in_sessions_user_live_index" on "sign_in_sessions" ("user_id", "last_used_at") where "ended_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "sign_in_sessions_user_live_index";`);
    this.addSql(`alter table "sign_in_sessions" drop constraint "sign_in_sessions_ended_by_check";`);
    this.addSql(`update "sign_in_sessions" set "ended_by" = 'signed_out' where "ended_by" in ('ended_by_user', 'account_deleted');`);
    this.addSql(`alter table "sign_in_sessions" add constraint "sign_in_sessions_ended_by_check" check ("ended_by" is null or ("ended_by" in ('signed_out', 'token_reused', 'password_reset', 'password_changed') and "ended_at" is not null));`);
    this.addSql(`alter table "sign_in_sessions" drop column "last_used_at", drop column "client_address", drop column "user_agent";`);
  }
}
