import { parse, stringify } from 'yaml';
import { z } from 'zod';
import type { Relationship } from './types.ts';

/**
 * Relationship files for bulk import and export: NDJSON, one relationship per line in the API's
 * shape (`{"resource":{"type","id"},"relation","subject":{"type","id","relation"?}}`), ids as the
 * services write them; and zed's validation-file form (`relationships: |-` with one
 * `type:id#relation@type:id[#relation]` per line), for ids zed can spell.
 */

export type RelationshipFileFormat = 'ndjson' | 'zed';

/** A relationship read from a file, with the line it came from (for errors). */
export interface ReadRelationship {
  line: number;
  relationship: Relationship;
}

const objectShape = z.strictObject({ type: z.string().min(1), id: z.string().min(1) });
const lineShape = z.strictObject({
  resource: objectShape,
  relation: z.string().min(1),
  subject: z.strictObject({ type: z.string().min(1), id: z.string().min(1), relation: z.string().min(1).optional() }),
});

/** A line that is not a relationship: which line, and why. */
export class RelationshipFileError extends Error {
  override name = 'RelationshipFileError';
}

export function readRelationshipFile(text: string, format: RelationshipFileFormat): ReadRelationship[] {
  return format === 'ndjson' ? readNdjson(text) : readZed(text);
}

function readNdjson(text: string): ReadRelationship[] {
  return text.split('\n').flatMap((content, index) => {
    if (content.trim() === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch {
      throw new RelationshipFileError(`line ${index + 1}: not JSON`);
    }
    const parsed = lineShape.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RelationshipFileError(`line ${index + 1}: ${issue?.path.join('.') || 'relationship'} ${issue?.message ?? 'is not a relationship'}`);
    }
    const { resource, relation, subject } = parsed.data;
    return [{ line: index + 1, relationship: { resource, relation, subject: { type: subject.type, id: subject.id, ...(subject.relation && { relation: subject.relation }) } } }];
  });
}

// zed's grammar: type:id#relation@type:id[#relation]; ids in SpiceDB's alphabet (or `*`).
const ZED_TUPLE = /^([a-z][a-z0-9_/]*):([A-Za-z0-9/_|\-=+]+)#([a-z][a-z0-9_]*)@([a-z][a-z0-9_/]*):([A-Za-z0-9/_|\-=+]+|\*)(?:#([a-z][a-z0-9_]*))?$/;
const ZED_ID = /^[A-Za-z0-9/_|\-=+]+$/;

function readZed(text: string): ReadRelationship[] {
  const document = parse(text) as { relationships?: unknown } | null;
  if (typeof document?.relationships !== 'string') throw new RelationshipFileError('not a zed validation file: no `relationships: |` text');
  // Lines of the block, numbered within it (YAML moves them; the block's own order is kept).
  return document.relationships.split('\n').flatMap((content, index) => {
    const trimmed = content.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return [];
    const match = ZED_TUPLE.exec(trimmed);
    if (!match) throw new RelationshipFileError(`relationship ${index + 1} (${trimmed}): not type:id#relation@type:id[#relation]`);
    const [, resourceType = '', resourceId = '', relation = '', subjectType = '', subjectId = '', subjectRelation] = match;
    return [{
      line: index + 1,
      relationship: {
        resource: { type: resourceType, id: resourceId },
        relation,
        subject: { type: subjectType, id: subjectId, ...(subjectRelation && { relation: subjectRelation }) },
      },
    }];
  });
}

export function ndjsonLine({ resource, relation, subject }: Relationship): string {
  return JSON.stringify({ resource: { type: resource.type, id: resource.id }, relation, subject: { type: subject.type, id: subject.id, ...(subject.relation && { relation: subject.relation }) } });
}

/** The `relationships:` document zed validates; an id zed cannot spell is refused by name (export NDJSON instead). */
export function zedRelationships(relationships: Relationship[]): string {
  const lines = relationships.map(({ resource, relation, subject }) => {
    for (const id of [resource.id, subject.id]) {
      if (!ZED_ID.test(id) && id !== '*') throw new RelationshipFileError(`the id ${JSON.stringify(id)} cannot be spelled in zed's form; export NDJSON instead`);
    }
    return `${resource.type}:${resource.id}#${relation}@${subject.type}:${subject.id}${subject.relation ? `#${subject.relation}` : ''}`;
  });
  return stringify({ relationships: lines.join('\n') }, { lineWidth: 0 });
}
