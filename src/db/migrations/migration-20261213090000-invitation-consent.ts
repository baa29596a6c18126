import { Migration } from '@mikro-orm/migrations';

/**
 * Consent and mail limits for invitations.
 *
 * - `users.email_verified_at`: when the account proved it reads its address (null for every
 *   account until then). Only a proven address is matched against invitations by email.
 * - `invitations.invitee_id`: a membership proposed to one account (`POST /orgs/{id}/members`),
 *   pending until that account accepts it. Null for an invitation by email. An account-addressed
 *   invitation and an email one never block each other, so a 409 cannot tell whose address it is.
 * - `invitations.mailed_at`: when its newest message was written (the resend cooldown).
 * - `invitation_mailings`: one row per invitation message written, for the per-organization and
 *   per-inviter limits over a sliding window.
 */
export class Migration20261213090000InvitationConsent extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "email_verified_at" timestamptz null;`);

    this.addSql(`alter table "invitations" add column "invitee_id" uuid null, add column "mailed_at" timestamptz null;`);
    this.addSql(`update "invitations" set "mailed_at" = "updated_at";`);
    this.addSql(
      `alter table "invitations" add constraint "invitations_invitee_id_foreign" foreign key ("invitee_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`create index "invitations_invitee_id_index" on "invitations" ("invitee_id");`);
    this.addSql(`drop index "invitations_one_pending_per_email";`);
    this.addSql(
      `create unique index "invitations_one_pending_per_email" on "invitations" ("organization_id", "email") where "state" = 'pending' and "invitee_id" is null;`,
    );
    this.addSql(
      `create unique index "invitations_one_pending_per_invitee" on "invitations" ("organization_id", "invitee_id") where "state" = 'pending' and "invitee_id" is not null;`,
    );

    this.addSql(
      `create table "invitation_mailings" ("id" bigserial primary key, "organization_id" uuid not null, "inviter_id" uuid not null, "created_at" timestamptz not null default now());`,
    );
    this.addSql(`create index "invitation_mailings_organization_index" on "invitation_mailings" ("organization_id", "created_at");`);
    this.addSql(`create index "invitation_mailings_inviter_index" on "invitation_mailings" ("inviter_id", "created_at");`);
    this.addSql(
      `alter table "invitation_mailings" add constraint "invitation_mailings_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "invitation_mailings" add constraint "invitation_mailings_inviter_id_foreign" foreign key ("inviter_id") references "users" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "invitation_mailings" cascade;`);
    this.addSql(`drop index "invitations_one_pending_per_invitee";`);
    this.addSql(`drop index "invitations_one_pending_per_email";`);
    this.addSql(`create unique index "invitations_one_pending_per_email" on "invitations" ("organization_id", "email") where "state" = 'pending';`);
    this.addSql(`alter table "invitations" drop column "invitee_id", drop column "mailed_at";`);
    this.addSql(`alter table "users" drop column "email_verified_at";`);
  }
}
