import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks (Standard Webhooks 1.0): endpoints registered by service accounts, the durable delivery
 * queue every instance drains (claimed FOR UPDATE SKIP LOCKED, leased while in flight), and the
 * attempts. Deliveries and attempts go with their endpoint, and with their event when retention
 * deletes it. The signing secret must be readable to sign with: it is never served after it is
 * shown once, and the previous one is kept only until its overlap ends.
 */
export class Migration20261216100000Webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "webhook_endpoints" (
  "id" uuid not null,
  "service_account_id" uuid not null references "service_accounts" ("id") on delete cascade,
  "url" varchar(2048) not null,
  "description" varchar(500) null,
  "event_types" text[] null,
  "organization_ids" uuid[] null,
  "secret" varchar(100) not null,
  "previous_secret" varchar(100) null,
  "previous_secret_expires_at" timestamptz null,
  "state" varchar(20) not null default 'enabled',
  "disabled_reason" varchar(500) null,
  "disabled_at" timestamptz null,
  "failing_since" timestamptz null,
  "created_at" timestamptz not null default now(),
  "updated_at" timestamptz not null default now(),
  constraint "webhook_endpoints_pkey" primary key ("id"),
  constraint "webhook_endpoints_state_check" check ("state" in ('enabled', 'disabled')));`);
    this.addSql(`create index "webhook_endpoints_service_account_index" on "webhook_endpoints" ("service_account_id");`);
    this.addSql(`create table "webhook_deliveries" (
  "id" bigserial not null,
  "endpoint_id" uuid not null references "webhook_endpoints" ("id") on delete cascade,
  "event_id" uuid not null references "events" ("id") on delete cascade,
  "state" varchar(20) not null default 'pending',
  "attempts" int not null default 0,
  "next_attempt_at" timestamptz not null default now(),
  "delivered_at" timestamptz null,
  "created_at" timestamptz not null default now(),
  constraint "webhook_deliveries_pkey" primary key ("id"),
  constraint "webhook_deliveries_state_check" check ("state" in ('pending', 'delivered', 'failed')));`);
    this.addSql(`create unique index "webhook_deliveries_endpoint_event_index" on "webhook_deliveries" ("endpoint_id", "event_id");`);
    this.addSql(`create index "webhook_deliveries_due_index" on "webhook_deliveries" ("next_attempt_at") where "state" = 'pending';`);
    this.addSql(`create index "webhook_deliveries_event_index" on "webhook_deliveries" ("event_id");`);
    this.addSql(`create table "webhook_attempts" (
  "id" bigserial not null,
  "delivery_id" bigint not null references "webhook_deliveries" ("id") on delete cascade,
  "endpoint_id" uuid not null,
  "event_id" uuid not null,
  "attempted_at" timestamptz not null,
  "duration_ms" int not null,
  "outcome" varchar(20) not null,
  "status_code" int null,
  "error" varchar(1000) null,
  "response_body" varchar(1024) null,
  constraint "webhook_attempts_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_attempts_endpoint_index" on "webhook_attempts" ("endpoint_id", "id");`);
    this.addSql(`create index "webhook_attempts_delivery_index" on "webhook_attempts" ("delivery_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_attempts";`);
    this.addSql(`drop table if exists "webhook_deliveries";`);
    this.addSql(`drop table if exists "webhook_endpoints";`);
  }
}
