import { z } from 'zod';
import { isModuleType, moduleObjectIdProblem } from '../../authz/object-ids.ts';
import { uuid } from '../../http/fields.ts';

export const objectType = z.string().regex(/^[a-z][a-z0-9_]{1,62}[a-z0-9]$/, { error: 'must be a schema type name' });
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// SpiceDB's object id alphabet, without the `*` wildcard. Users, organizations and workspaces
// are named by lower-case UUIDs; an id of UUID shape is made canonical so `1A93…` is `1a93…`.
const CORE_ID = /^[A-Za-z0-9/_|\-=+]{1,128}$/;
const CORE_ID_RULE = 'must be 1-128 of A-Z a-z 0-9 / _ | - = +';
export const objectId = z
  .string()
  .regex(CORE_ID, { error: CORE_ID_RULE })
  .overwrite((id) => (UUID_SHAPE.test(id) ? id.toLowerCase() : id));
const permission = z
  .string()
  .regex(/^([a-z_]+:)?[a-z][a-z0-9_]{0,62}$/, { error: 'must be a registry name (org:invite) or a permission name' });
const relation = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'must be a relation name' });

// A policy module's type is `<module>/<type>`; its ids are the service's own: any 1-512 printable
// characters, encoded for SpiceDB by one rule (src/authz/object-ids.ts). Core ids as above.
const anyObjectType = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,62}[a-z0-9](\/[a-z][a-z0-9_]{1,62}[a-z0-9])?$/, { error: 'must be a schema type name (a module type is <module>/<type>)' });
const objectIdField = z.string().meta({ description: 'A module type takes any 1-512 printable characters' });

function checkObjectId(ref: { type: string; id: string }, context: z.RefinementCtx): void {
  const problem = isModuleType(ref.type) ? moduleObjectIdProblem(ref.id) : CORE_ID.test(ref.id) ? undefined : CORE_ID_RULE;
  if (problem) context.addIssue({ code: 'custom', path: ['id'], message: problem });
}

/** A core id of UUID shape is made canonical; a module's ids are the service's own, kept as sent. */
function canonicalId<Ref extends { type: string; id: string }>(ref: Ref): Ref {
  return isModuleType(ref.type) || !UUID_SHAPE.test(ref.id) ? ref : { ...ref, id: ref.id.toLowerCase() };
}

export const objectRef = z
  .strictObject({ type: anyObjectType, id: objectIdField })
  .superRefine(checkObjectId)
  .overwrite(canonicalId)
  .meta({ id: 'ObjectRef' });

/** A subject: an object, a subject set such as `team:<id>#member`, or every object of a type (`user:*`) where the relation takes it. */
export const subjectRef = z
  .strictObject({ type: anyObjectType, id: objectIdField, relation: relation.optional() })
  .superRefine((ref, context) => {
    if (ref.id !== '*') checkObjectId(ref, context);
  })
  .overwrite(canonicalId)
  .meta({ id: 'SubjectRef' });

export const consistency = z
  .union([
    z.literal('read_your_writes'),
    z.literal('minimize_latency'),
    z.literal('fully_consistent'),
    z.strictObject({ at_least_as_fresh: z.string().min(1).max(1024) }),
  ])
  .meta({
    id: 'Consistency',
    description:
      'read_your_writes (default: sees every write the service acknowledged before the request), ' +
      'minimize_latency (may be ~5 s stale), fully_consistent, or {at_least_as_fresh: ZedToken}',
  });

/** Opaque to clients: sealed for the caller and the query (LookupCursors), opened by the service. */
const lookupCursor = z.string().min(1).max(4096);

const checkItem = z.strictObject({ resource: objectRef, permission, subject: objectRef });

export const checkBody = checkItem
  .extend({
    consistency: consistency.optional(),
    explain: z.boolean().optional().meta({ description: 'Also answer the paths that grant the permission (never from a cache)' }),
  })
  .meta({ id: 'CheckRequest' });

export const checkBulkBody = z
  .strictObject({ items: z.array(checkItem).min(1).max(1000), consistency: consistency.optional() })
  .meta({ id: 'CheckBulkRequest' });

export const lookupResourcesBody = z
  .strictObject({
    resource_type: anyObjectType,
    permission,
    subject: objectRef,
    limit: z.number().int().min(1).max(1000).default(100),
    cursor: lookupCursor.optional(),
    consistency: consistency.optional(),
  })
  .meta({ id: 'LookupResourcesRequest' });

export const lookupSubjectsBody = z
  .strictObject({ resource: objectRef, permission, subject_type: anyObjectType, consistency: consistency.optional() })
  .meta({ id: 'LookupSubjectsRequest' });

/** The user a service acts for: whose permissions decide a registration. */
export const onBehalfOf = z
  .strictObject({ type: z.literal('user'), id: uuid })
  .meta({ id: 'OnBehalfOf', description: 'The user the service acts for; only trusted service accounts may leave it out' });

export const relationshipsBody = z
  .strictObject({
    relationships: z.array(z.strictObject({ resource: objectRef, relation, subject: subjectRef })).min(1).max(1000),
    on_behalf_of: onBehalfOf.optional(),
  })
  .meta({ id: 'RelationshipsRequest' });

export const grantPath = z
  .object({
    steps: z.array(z.object({ type: z.string(), id: z.string(), relation: z.string().optional(), name: z.string().optional() })),
    subject: z.object({ type: z.string(), id: z.string() }),
    complete: z.boolean().meta({ description: 'False where SpiceDB answered a step from its cache without saying how' }),
    text: z.string(),
  })
  .meta({ id: 'GrantPath' });

export const checkResponse = z
  .object({
    allowed: z.boolean(),
    checked_at: z.string(),
    reason: z.enum(['mfa_enrollment_required']).optional().meta({
      description:
        'On a denial of a user, when the reason is that the organization requires a second factor the user has not enrolled ' +
        '(they hold nothing there until they do)',
    }),
    explanation: z
      .object({ paths: z.array(grantPath) })
      .optional()
      .meta({ description: 'With `explain`: the paths that grant the permission, none when denied' }),
  })
  .meta({ id: 'CheckResponse' });

export const checkBulkResponse = z
  .object({
    results: z.array(z.object({ allowed: z.boolean(), error: z.string().optional() })),
    checked_at: z.string(),
  })
  .meta({ id: 'CheckBulkResponse' });

export const lookupResourcesResponse = z
  .object({
    resource_ids: z.array(z.string()).meta({ description: "Distinct ids, in the order SpiceDB streams them (not sorted); each id once across a listing's pages" }),
    next_cursor: z.string().nullable().meta({ description: 'The next page; null on the last page, which is never empty' }),
  })
  .meta({ id: 'LookupResourcesResponse' });

export const lookupSubjectsResponse = z
  .object({
    subject_ids: z.array(z.string()).meta({ description: 'Sorted ids; `*` means every subject of the type (public access), not expanded' }),
  })
  .meta({ id: 'LookupSubjectsResponse' });

export const writtenResponse = z
  .object({
    written_at: z.string().meta({
      description:
        'The ZedToken of the write (also in the ZedToken header): pass it as {"at_least_as_fresh": "<token>"} to see the write',
    }),
  })
  .meta({ id: 'RelationshipsWritten' });

const moduleDescription = z
  .object({
    name: z.string(),
    file: z.string(),
    types: z.array(z.object({ name: z.string(), relations: z.array(z.string()), permissions: z.array(z.string()) })),
  })
  .meta({ id: 'PolicyModule' });

export const schemaResponse = z
  .object({
    schema: z.string().meta({ description: 'schema.zed composed with every policy module, as written to SpiceDB' }),
    modules: z.array(moduleDescription).meta({ description: 'The policy modules (policy/<name>.zed), each with its types' }),
    permissions: z.array(
      z.object({ name: z.string(), resource_type: z.string(), permission: z.string(), description: z.string() }),
    ),
  })
  .meta({ id: 'SchemaResponse' });
