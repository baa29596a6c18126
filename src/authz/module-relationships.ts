import type { EntityManager } from '@mikro-orm/postgresql';
import { postgresArray } from '../db/postgres-array.ts';
import { moduleOfType } from './policy-modules.ts';
import type { ObjectRef, Relationship, RelationshipFilter } from './types.ts';

/**
 * The relationships of policy-module types as Postgres records them (module_relationships), the
 * system of record the embedded replay, reconcile, export and the tenant deletions read. Ids are
 * the services' own; SpiceDB sees them encoded (object-ids.ts).
 */

/** A module relationship with the organization of the tenant object it names, if it names one. */
export interface ModuleTuple {
  relationship: Relationship;
  organizationId: string | null;
}

interface Row {
  resource_type: string;
  resource_id: string;
  relation: string;
  subject_type: string;
  subject_id: string;
  subject_relation: string;
}

const COLUMNS = 'resource_type, resource_id, relation, subject_type, subject_id, subject_relation';

function toRelationship(row: Row): Relationship {
  return {
    resource: { type: row.resource_type, id: row.resource_id },
    relation: row.relation,
    subject: { type: row.subject_type, id: row.subject_id, ...(row.subject_relation && { relation: row.subject_relation }) },
  };
}

/** Postgres arrays travel as one parameter each: one statement per batch, whatever its size. */
function columnsOf(relationships: Relationship[]): string[] {
  return [
    relationships.map(({ resource }) => resource.type),
    relationships.map(({ resource }) => resource.id),
    relationships.map(({ relation }) => relation),
    relationships.map(({ subject }) => subject.type),
    relationships.map(({ subject }) => subject.id),
    relationships.map(({ subject }) => subject.relation ?? ''),
  ].map(postgresArray);
}

/** Records the tuples; ones already recorded stay as they are. Returns the new ones. */
export async function recordModuleTuples(em: EntityManager, tuples: ModuleTuple[], writtenBy: string | null): Promise<Relationship[]> {
  if (tuples.length === 0) return [];
  const relationships = tuples.map(({ relationship }) => relationship);
  const inserted = await em.execute<Row[]>(
    `insert into module_relationships (${COLUMNS}, module, organization_id, written_by)
       select ${COLUMNS.replaceAll(/(\w+)/g, 't.$1')}, split_part(t.resource_type, '/', 1), o.organization_id, ?::uuid
         from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) with ordinality as t(${COLUMNS}, n)
         join unnest(?::uuid[]) with ordinality as o(organization_id, n) using (n)
     on conflict do nothing
     returning ${COLUMNS}`,
    [writtenBy, ...columnsOf(relationships), postgresArray(tuples.map(({ organizationId }) => organizationId))],
  );
  return inserted.map(toRelationship);
}

/** Removes the records of these tuples; returns those that were recorded. */
export async function forgetModuleTuples(em: EntityManager, relationships: Relationship[]): Promise<Relationship[]> {
  if (relationships.length === 0) return [];
  const rows = await em.execute<Row[]>(
    `delete from module_relationships m
      using unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) as t(${COLUMNS})
      where (m.resource_type, m.resource_id, m.relation, m.subject_type, m.subject_id, m.subject_relation)
          = (t.resource_type, t.resource_id, t.relation, t.subject_type, t.subject_id, t.subject_relation)
      returning m.*`,
    columnsOf(relationships),
  );
  return rows.map(toRelationship);
}

/**
 * Deleting a tenant object (a workspace, team, organization or user) removes every module
 * relationship naming it: the records go here, and the filters returned delete the tuples from
 * SpiceDB before the commit, with the rest of the change (one per module type, whatever the count).
 */
export async function forgetModuleTuplesNaming(em: EntityManager, objects: ObjectRef[]): Promise<RelationshipFilter[]> {
  if (objects.length === 0) return [];
  const rows = await em.execute<Array<{ resource_type: string; subject_type: string; subject_id: string }>>(
    `with forgotten as (
       delete from module_relationships m
        using unnest(?::text[], ?::text[]) as o(type, id)
        where m.subject_type = o.type and m.subject_id = o.id
        returning m.resource_type, m.subject_type, m.subject_id)
     select distinct resource_type, subject_type, subject_id from forgotten`,
    [postgresArray(objects.map(({ type }) => type)), postgresArray(objects.map(({ id }) => id))],
  );
  return rows.map((row) => ({ resourceType: row.resource_type, subject: { type: row.subject_type, id: row.subject_id } }));
}

/** The organizations the module objects are attached to, by `type:id` (an object of none is absent). */
export async function organizationsOfModuleObjects(em: EntityManager, objects: ObjectRef[]): Promise<Map<string, Set<string>>> {
  const owners = new Map<string, Set<string>>();
  if (objects.length === 0) return owners;
  const rows = await em.execute<Array<{ resource_type: string; resource_id: string; organization_id: string }>>(
    `select distinct m.resource_type, m.resource_id, m.organization_id from module_relationships m
       join unnest(?::text[], ?::text[]) as o(type, id) on m.resource_type = o.type and m.resource_id = o.id
      where m.organization_id is not null`,
    [postgresArray(objects.map(({ type }) => type)), postgresArray(objects.map(({ id }) => id))],
  );
  for (const row of rows) {
    const key = `${row.resource_type}:${row.resource_id}`;
    owners.set(key, (owners.get(key) ?? new Set()).add(row.organization_id));
  }
  return owners;
}

/**
 * Every recorded module tuple (of one module, or all), page by page in key order, for the replay
 * into an embedded SpiceDB, reconcile and export.
 */
export async function* recordedModuleTuples(em: EntityManager, module?: string, pageSize = 5_000): AsyncGenerator<Relationship[]> {
  let after: Row | undefined;
  for (;;) {
    const rows = await em.execute<Row[]>(
      `select ${COLUMNS} from module_relationships
        where (?::text is null or module = ?)
          and (?::boolean or (${COLUMNS}) > (?, ?, ?, ?, ?, ?))
        order by ${COLUMNS} limit ?`,
      [
        module ?? null,
        module ?? null,
        after === undefined,
        after?.resource_type ?? '',
        after?.resource_id ?? '',
        after?.relation ?? '',
        after?.subject_type ?? '',
        after?.subject_id ?? '',
        after?.subject_relation ?? '',
        pageSize,
      ],
    );
    if (rows.length > 0) yield rows.map(toRelationship);
    if (rows.length < pageSize) return;
    after = rows.at(-1);
  }
}

/** The module a relationship belongs to: its resource's. */
export function moduleOfRelationship(relationship: Relationship): string | undefined {
  return moduleOfType(relationship.resource.type);
}
