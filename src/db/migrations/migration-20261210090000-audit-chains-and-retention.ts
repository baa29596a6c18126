import { Migration } from '@mikro-orm/migrations';

/**
 * Chains outside any organization, and retention.
 *
 * An event with no organization (a sign-in, a service account created) belongs to the chain of its
 * target: each user's sessions form one chain, each service account's lifecycle another. Their
 * positions are unique per target, as an organization's are per organization.
 *
 * Anchors become a history keyed by chain (`organization:<id>`, `user:<id>`, ...): each prune adds
 * the last pruned event's position and hash; the newest anchor is where the chain now starts.
 * Anchors are insert-only, and one is accepted only if it names an event that exists with that
 * hash, past the chain's previous anchor. An event may be deleted only inside a prune
 * (`tenant_authz.audit_prune`) and only once an anchor covers it: the application role can
 * shorten a chain from its start, visibly (the anchor row says when), never cut it in the middle.
 */
export class Migration20261210090000AuditChainsAndRetention extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create unique index "audit_events_subject_chain_index" on "audit_events" ("target_type", "target_id", "position") where "organization_id" is null;`,
    );
    this.addSql(`alter table "audit_chain_anchors" drop constraint "audit_chain_anchors_pkey";`);
    this.addSql(`alter table "audit_chain_anchors" add column "chain" varchar(320) null;`);
    this.addSql(`update "audit_chain_anchors" set "chain" = 'organization:' || "organization_id";`);
    this.addSql(`alter table "audit_chain_anchors" alter column "chain" set not null;`);
    this.addSql(`alter table "audit_chain_anchors" drop column "organization_id";`);
    this.addSql(`alter table "audit_chain_anchors" add constraint "audit_chain_anchors_pkey" primary key ("chain", "position");`);

    this.addSql(`create function "audit_chain_of"(organization_id uuid, target_type varchar, target_id varchar) returns varchar
  language sql immutable as $$
  select case when organization_id is not null then 'organization:' || organization_id else target_type || ':' || target_id end
$$;`);
    this.addSql(`create or replace function "audit_events_append_only"() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('tenant_authz.audit_prune', true) = 'on' and exists (
    select 1 from audit_chain_anchors a
     where a.chain = audit_chain_of(old.organization_id, old.target_type, old.target_id) and a.position >= old.position
  ) then
    return old;
  end if;
  raise exception 'audit_events is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;`);
    this.addSql(`create function "audit_chain_anchors_guard"() returns trigger language plpgsql as $$
declare
  kind varchar := split_part(new.chain, ':', 1);
  subject varchar := substr(new.chain, length(kind) + 2);
  named boolean;
begin
  if tg_op <> 'INSERT' then
    raise exception 'audit_chain_anchors is insert-only (% refused)', tg_op using errcode = 'insufficient_privilege';
  end if;
  if exists (select 1 from audit_chain_anchors a where a.chain = new.chain and a.position >= new.position) then
    raise exception 'an anchor must move its chain forward' using errcode = 'insufficient_privilege';
  end if;
  if kind = 'organization' then
    named := exists (select 1 from audit_events e
                      where e.organization_id = subject::uuid and e.position = new.position and e.hash = new.hash);
  else
    named := exists (select 1 from audit_events e
                      where e.organization_id is null and e.target_type = kind and e.target_id = subject
                        and e.position = new.position and e.hash = new.hash);
  end if;
  if not named then
    raise exception 'an anchor must name an event of its chain, with its hash' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;`);
    this.addSql(
      `create trigger "audit_chain_anchors_guard" before insert or update or delete on "audit_chain_anchors" for each row execute function "audit_chain_anchors_guard"();`,
    );
    this.addSql(
      `create trigger "audit_chain_anchors_no_truncate" before truncate on "audit_chain_anchors" for each statement execute function "audit_chain_anchors_guard"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "audit_chain_anchors_no_truncate" on "audit_chain_anchors";`);
    this.addSql(`drop trigger if exists "audit_chain_anchors_guard" on "audit_chain_anchors";`);
    this.addSql(`drop function if exists "audit_chain_anchors_guard"();`);
    this.addSql(`drop index if exists "audit_events_subject_chain_index";`);
    this.addSql(`alter table "audit_chain_anchors" drop constraint "audit_chain_anchors_pkey";`);
    this.addSql(`alter table "audit_chain_anchors" add column "organization_id" uuid null;`);
    this.addSql(`delete from "audit_chain_anchors" where "chain" not like 'organization:%';`);
    this.addSql(
      `delete from "audit_chain_anchors" a using "audit_chain_anchors" b where a."chain" = b."chain" and a."position" < b."position";`,
    );
    this.addSql(`update "audit_chain_anchors" set "organization_id" = substr("chain", 14)::uuid;`);
    this.addSql(`alter table "audit_chain_anchors" drop column "chain";`);
    this.addSql(`alter table "audit_chain_anchors" alter column "organization_id" set not null;`);
    this.addSql(`alter table "audit_chain_anchors" add constraint "audit_chain_anchors_pkey" primary key ("organization_id");`);
    this.addSql(`create or replace function "audit_events_append_only"() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('tenant_authz.audit_prune', true) = 'on' then
    return old;
  end if;
  raise exception 'audit_events is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;`);
    this.addSql(`drop function if exists "audit_chain_of"(uuid, varchar, varchar);`);
  }
}
