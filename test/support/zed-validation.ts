import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { PermissionQuery, Relationship } from '../../src/authz/types.ts';

/** The parts of a zed validation file that the suite replays through the service's own client. */
export interface ZedValidationFile {
  relationships: Relationship[];
  assertTrue: PermissionQuery[];
  assertFalse: PermissionQuery[];
}

// resource_type:resource_id#relation@subject_type:subject_id[#subject_relation][[expiration:RFC 3339]]
const TUPLE =
  /^([a-z_/]+):([A-Za-z0-9_\-=+/|]+)#([a-z_]+)@([a-z_/]+):([A-Za-z0-9_\-=+/|*]+)(?:#([a-z_]+))?(?:\[expiration:([0-9TZ:.+-]+)\])?$/;

function parseTuple(text: string): Relationship {
  const match = TUPLE.exec(text.trim());
  if (!match) throw new Error(`Not a relationship: ${text}`);
  const [, resourceType = '', resourceId = '', relation = '', subjectType = '', subjectId = '', subjectRelation, expiration] = match;
  return {
    resource: { type: resourceType, id: resourceId },
    relation,
    subject: { type: subjectType, id: subjectId, ...(subjectRelation && { relation: subjectRelation }) },
    ...(expiration && { expiresAt: new Date(expiration) }),
  };
}

function toQuery(text: string): PermissionQuery {
  const { resource, relation, subject } = parseTuple(text);
  return { resource, permission: relation, subject };
}

export function readZedValidationFile(file: string): ZedValidationFile {
  const document = parse(readFileSync(file, 'utf8')) as {
    relationships: string;
    assertions: { assertTrue?: string[]; assertFalse?: string[] };
  };
  const lines = document.relationships
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('//'));
  return {
    relationships: lines.map(parseTuple),
    assertTrue: (document.assertions.assertTrue ?? []).map(toQuery),
    assertFalse: (document.assertions.assertFalse ?? []).map(toQuery),
  };
}

export function describeQuery(query: PermissionQuery): string {
  return `${query.resource.type}:${query.resource.id}#${query.permission}@${query.subject.type}:${query.subject.id}`;
}
