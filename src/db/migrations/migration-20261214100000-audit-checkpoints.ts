import { Migration } from '@mikro-orm/migrations';

/**
 * Signed checkpoints of the audit chains' heads: "chain C had its event at `position` with
 * `hash`, at `signed_at`", signed (a compact JWS, `signature`) with AUDIT_CHECKPOINT_KEY, a key
 * that is not in the database. Nothing guards these rows but their signatures: a database writer
 * can delete them, never make one, which is why auditors keep copies outside (docs/audit-and-events.md, "Audit log").
 */
export class Migration20261214100000AuditCheckpoints extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_checkpoints" ("chain" varchar(320) not null, "position" bigint not null, "key_id" varchar(64) not null, "hash" varchar(64) not null, "signed_at" timestamptz not null, "signature" text not null, constraint "audit_checkpoints_pkey" primary key ("chain", "position", "key_id"));`,
    );
    this.addSql(`create index "audit_checkpoints_signed_at_index" on "audit_checkpoints" ("signed_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_checkpoints" cascade;`);
  }
}
