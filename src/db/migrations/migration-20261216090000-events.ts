import { Migration } from '@mikro-orm/migrations';

/**
 * Events: what the audit log records, as other services are told it (src/events).
 *
 * A row is written in the transaction of its change and takes that transaction's id
 * (`transaction_id`, xid8) and a number from a sequence. The feed orders by both and shows only
 * rows whose transaction is older than every transaction still in flight (`events_horizon()`), so
 * a reader at a cursor never misses a row that commits later with an earlier place
 * (event-feed.ts). No foreign key to organizations: the event
 * of an organization's deletion outlives it.
 *
 * `event_feed_state` keeps how far retention has deleted (a cursor older is answered 410);
 * `event_sinks` keeps where each follower of the feed (webhook fan-out, JetStream) has got to.
 */
export class Migration20261216090000Events extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "events" (
  "id" uuid not null,
  "transaction_id" xid8 not null default pg_current_xact_id(),
  "sequence" bigserial not null,
  "type" varchar(100) not null,
  "organization_id" uuid null,
  "occurred_at" timestamptz not null,
  "actor_type" varchar(20) not null,
  "actor_id" varchar(64) not null,
  "data" jsonb not null,
  constraint "events_pkey" primary key ("id"));`);
    this.addSql(`create unique index "events_feed_index" on "events" ("transaction_id", "sequence");`);
    this.addSql(`create index "events_organization_feed_index" on "events" ("organization_id", "transaction_id", "sequence");`);
    this.addSql(`create index "events_occurred_at_index" on "events" ("occurred_at");`);
    // The statement's snapshot, less what runs in other databases of the server: transaction ids
    // are server-wide, and a long transaction in another database cannot write here. An id in the
    // snapshot that no backend of another database holds counts as ours (also one that has just
    // ended): never too far, at worst a moment short.
    this.addSql(`create function "events_horizon"() returns xid8 language sql stable as $$
  with snapshot as (select pg_current_snapshot() as taken),
  elsewhere as (
    select backend_xid::text::bigint as xid from pg_stat_activity
     where backend_xid is not null and datname is distinct from current_database())
  select least(
    (select min(running) from snapshot, pg_snapshot_xip(snapshot.taken) as running
      where running::text::bigint % 4294967296 not in (select xid from elsewhere)),
    pg_current_xact_id_if_assigned(),
    (select pg_snapshot_xmax(taken) from snapshot))
$$;`);
    this.addSql(`create table "event_feed_state" (
  "id" boolean not null default true check ("id"),
  "pruned_through_transaction" xid8 not null default '0',
  "pruned_through_sequence" bigint not null default 0,
  constraint "event_feed_state_pkey" primary key ("id"));`);
    this.addSql(`insert into "event_feed_state" default values;`);
    this.addSql(`create table "event_sinks" (
  "name" varchar(50) not null,
  "transaction_id" xid8 not null,
  "sequence" bigint not null,
  "updated_at" timestamptz not null default now(),
  constraint "event_sinks_pkey" primary key ("name"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "event_sinks";`);
    this.addSql(`drop table if exists "event_feed_state";`);
    this.addSql(`drop table if exists "events";`);
    this.addSql(`drop function if exists "events_horizon"();`);
  }
}
