import { describeSchema } from './schema.ts';
import type { ObjectRef, RelationshipFilter, RelationshipUpdate } from './types.ts';

/**
 * Which permissions a relationship write can change. Most writes the platform's services make
 * register or share one of their own resources (a chatbot, a knowledge base): objects of a type
 * that no relation of the schema names as a subject, so nothing else's permissions are computed
 * through them. Such a write can change the permissions of the objects it wrote and of nothing
 * else; every other write (roles, teams, workspaces, the schema) can change anything.
 * The schema has no exclusion (`-`), but the argument does not need that: it is about which
 * objects' permissions read the written tuples at all.
 */
export type WriteReach = { kind: 'graph' } | { kind: 'objects'; objects: string[] };

export const WHOLE_GRAPH: WriteReach = { kind: 'graph' };

/**
 * Types no relation of the schema takes as a subject: leaves of the permission graph. A mistake
 * here would let a write skip retiring what it changed, so a type whose name appears anywhere in
 * another definition (even in a way the relation parser does not read) is not counted a leaf.
 */
export function leafTypesOf(schemaText: string): Set<string> {
  const model = describeSchema(schemaText);
  const referenced = new Set([...model.values()].flatMap(({ relations }) => [...relations.values()].flatMap((types) => [...types])));
  const namedElsewhere = (type: string) =>
    [...model].some(([definition, { body }]) => definition !== type && new RegExp(`(^|[^a-z0-9_/])${type}([^a-z0-9_/]|$)`).test(body));
  return new Set([...model.keys()].filter((type) => !referenced.has(type) && !namedElsewhere(type)));
}

export function objectKey({ type, id }: ObjectRef): string {
  return `${type}:${id}`;
}

export function typeOfObject(object: string): string {
  return object.slice(0, object.indexOf(':'));
}

export function reachOfUpdates(updates: RelationshipUpdate[], leafTypes: ReadonlySet<string>): WriteReach {
  return reachOf(updates.map(({ relationship }) => relationship.resource), leafTypes);
}

/** A deletion by filter stays within one object only when the filter names a leaf object. */
export function reachOfFilter(filter: RelationshipFilter, leafTypes: ReadonlySet<string>): WriteReach {
  // An empty id means every object of the type (spicedb-wire.ts), as an absent one does.
  if (!filter.resourceId) return WHOLE_GRAPH;
  return reachOf([{ type: filter.resourceType, id: filter.resourceId }], leafTypes);
}

function reachOf(resources: ObjectRef[], leafTypes: ReadonlySet<string>): WriteReach {
  if (resources.length === 0 || resources.some(({ type }) => !leafTypes.has(type))) return WHOLE_GRAPH;
  return { kind: 'objects', objects: [...new Set(resources.map(objectKey))] };
}

// A reach travels between instances as `*` or a comma-separated list, within NOTIFY's 8,000-byte
// payload. Core ids never hold a space or a comma (SpiceDB's own grammar); a policy module's own
// ids may (object-ids.ts), and a list holding one travels as the whole graph.
const MAX_ENCODED = 7_000;

export function encodeReach(reach: WriteReach): string {
  if (reach.kind === 'graph') return '*';
  if (reach.objects.some((object) => /[\s,]/.test(object))) return '*';
  const encoded = reach.objects.join(',');
  return encoded.length > MAX_ENCODED ? '*' : encoded;
}

/** What another instance announced; anything unreadable (or an older instance's silence) is the whole graph. */
export function decodeReach(encoded: string | undefined): WriteReach {
  if (!encoded || encoded === '*') return WHOLE_GRAPH;
  const objects = encoded.split(',');
  return objects.every((object) => /^[^\s:,]+:[^\s,]+$/.test(object)) ? { kind: 'objects', objects } : WHOLE_GRAPH;
}
