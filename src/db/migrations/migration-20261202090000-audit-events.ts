import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log: one row per access change, chained per organization by `hash` in `position`
 * order. No foreign key to organizations: an organization's events outlive it (its deletion is
 * one of them). A trigger makes the table append-only for every role that does not disable
 * triggers: UPDATE is always refused, DELETE only outside a retention prune (which sets
 * `tenant_authz.audit_prune` for its own transaction and records the new anchor first).
 * Operators should also `REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM <app role>` where the
 * application does not connect as the table's owner (docs/audit-and-events.md, "Audit log").
 */
export class Migration20261202090000AuditEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_events" ("id" uuid not null, "organization_id" uuid null, "position" bigint not null, "occurred_at" timestamptz not null, "actor_type" varchar(20) not null, "actor_id" varchar(64) not null, "on_behalf_of" uuid null, "action" varchar(100) not null, "target_type" varchar(50) not null, "target_id" varchar(255) not null, "changes" jsonb not null default '{}', "request_id" varchar(128) null, "client_address" varchar(64) null, "user_agent" varchar(256) null, "hash" char(64) not null, constraint "audit_events_pkey" primary key ("id"));`);
    this.addSql(`create unique index "audit_events_chain_index" on "audit_events" ("organization_id", "position");`);
    this.addSql(`create index "audit_events_occurred_at_index" on "audit_events" ("occurred_at");`);
    this.addSql(`create table "audit_chain_anchors" ("organization_id" uuid not null, "position" bigint not null, "hash" char(64) not null, "pruned_at" timestamptz not null default now(), constraint "audit_chain_anchors_pkey" primary key ("organization_id"));`);
    this.addSql(`create function "audit_events_append_only"() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('tenant_authz.audit_prune', true) = 'on' then
    return old;
  end if;
  raise exception 'audit_events is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;`);
    this.addSql(`create trigger "audit_events_append_only" before update or delete on "audit_events" for each row execute function "audit_events_append_only"();`);
    this.addSql(`create trigger "audit_events_no_truncate" before truncate on "audit_events" for each statement execute function "audit_events_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_events" cascade;`);
    this.addSql(`drop table if exists "audit_chain_anchors" cascade;`);
    this.addSql(`drop function if exists "audit_events_append_only"();`);
  }
}
