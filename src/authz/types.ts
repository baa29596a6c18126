/**
 * The authorization vocabulary every layer speaks: objects, relationships, ZedTokens and
 * consistency. Plain data, free of any SpiceDB package (spicedb-wire.ts maps it to the v1 API).
 */

export type ZedToken = string;

export interface ObjectRef {
  type: string;
  id: string;
}

export interface SubjectRef extends ObjectRef {
  /** For subject sets such as `organization:acme#member`; absent for plain objects. */
  relation?: string;
}

export interface Relationship {
  resource: ObjectRef;
  relation: string;
  subject: SubjectRef;
  /** When the tuple stops counting (SpiceDB's `optionalExpiresAt`); absent: never. Not part of its identity. */
  expiresAt?: Date | undefined;
}

export type RelationshipOperation = 'touch' | 'delete';

export interface RelationshipUpdate {
  operation: RelationshipOperation;
  relationship: Relationship;
}

/**
 * How fresh a read must be. `read_your_writes` (the floor, see freshness.ts) is what every read
 * asks unless told otherwise. A token a client supplied names the request field it came from
 * (`suppliedAt`), so SpiceDB refusing it is the client's 422, not our 500.
 */
export type Consistency =
  | { kind: 'read_your_writes' }
  | { kind: 'minimize_latency' }
  | { kind: 'fully_consistent' }
  | { kind: 'at_least_as_fresh'; zedToken: ZedToken; suppliedAt?: string }
  | { kind: 'at_exact_snapshot'; zedToken: ZedToken; suppliedAt?: string };

/** What is sent to SpiceDB, once the floor has resolved `read_your_writes` and `minimize_latency`. */
export type Requirement = Exclude<Consistency, { kind: 'read_your_writes' }>;

export interface PermissionQuery {
  resource: ObjectRef;
  permission: string;
  subject: SubjectRef;
}

export interface CheckResult {
  allowed: boolean;
  checkedAt: ZedToken;
}

/**
 * One object on a path that grants a permission. `relation` names the schema relation the path
 * follows out of the object (`viewer`, `member`); absent where only permissions and arrows lead on.
 */
export interface PathStep {
  object: ObjectRef;
  relation?: string;
  /** What people call the object, where the service knows it: a custom role's name. */
  name?: string;
}

/**
 * A chain from the checked resource to the subject, as SpiceDB walked it. A union stops at the
 * first branch that holds, so an answer shows the paths SpiceDB needed, not every possible one;
 * an intersection (`& organization->view`) needs all its branches, so each shows as a path.
 * `complete` is false where SpiceDB answered a step from its cache and did not say how.
 */
export interface GrantPath {
  steps: PathStep[];
  subject: SubjectRef;
  complete: boolean;
}

export interface ExplainedCheck extends CheckResult {
  /** Empty when denied. */
  paths: GrantPath[];
}

/** Matches relationships by resource (type, optionally id and relation) and optionally by subject. */
export interface RelationshipFilter {
  resourceType: string;
  resourceId?: string;
  relation?: string;
  subject?: { type: string; id?: string };
}

/** One result of a LookupResources stream. */
export interface LookedUpResource {
  /** As SpiceDB spells it (a module id encoded, src/authz/object-ids.ts): the order its stream keeps. */
  id: string;
  /** False for CONDITIONAL_PERMISSION (a caveat lacking context): not a yes. */
  granted: boolean;
  /** SpiceDB's cursor that resumes the stream after this result. */
  resumeAfter: string;
}

export type BulkCheckItemResult = { allowed: boolean } | { error: string };
