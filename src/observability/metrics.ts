import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per service instance (not prom-client's global one), so tests can run several
 * instances in one process and every instance reports only its own figures.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly spicedbCallDuration = new Histogram({
    name: 'spicedb_call_duration_seconds',
    help: 'SpiceDB call duration by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly spicedbCallErrors = new Counter({
    name: 'spicedb_call_errors_total',
    help: 'SpiceDB calls that failed, by method and gRPC status code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });

  readonly outboxBacklog = new Gauge({
    name: 'outbox_backlog',
    help: 'Relationship changes committed in Postgres and not yet delivered to SpiceDB',
    registers: [this.registry],
  });

  /** What a paged lookup costs SpiceDB: results streamed, whatever the page keeps of them. */
  readonly spicedbStreamedResults = new Counter({
    name: 'spicedb_streamed_results_total',
    help: 'Results SpiceDB streamed to this instance, by method (LookupResources, LookupSubjects)',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  readonly policyModuleCalls = new Counter({
    name: 'authz_policy_module_calls_total',
    help: "Authorization API calls about a policy module's types, by module and operation (check, check_bulk, explain, lookup_resources, lookup_subjects, write, delete)",
    labelNames: ['module', 'operation'] as const,
    registers: [this.registry],
  });

  readonly decisionCacheLookups = new Counter({
    name: 'authz_decision_cache_lookups_total',
    help: 'Checks by how the decision cache served them: hit, miss, or bypass (the request asked for more than the floor)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly floorPropagation = new Histogram({
    name: 'authz_floor_propagation_seconds',
    help: "Time from another instance's acknowledged SpiceDB write to this instance hearing of it (clocks of both hosts)",
    buckets: [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly floorChannelUp = new Gauge({
    name: 'authz_floor_channel_up',
    help: '1 while this instance hears the other instances\' writes; 0 while every default read is fully consistent instead',
    registers: [this.registry],
  });

  readonly sessionRevocationPropagation = new Histogram({
    name: 'session_revocation_propagation_seconds',
    help: "Time from another instance's session revocation (logout, refresh-token reuse) to this instance refusing its tokens (clocks of both hosts)",
    buckets: [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly sessionRevocationChannelUp = new Gauge({
    name: 'session_revocation_channel_up',
    help: '1 while this instance hears session revocations; 0 while every authenticated request asks Postgres instead',
    registers: [this.registry],
  });

  readonly passwordHashes = new Counter({
    name: 'password_hashes_total',
    help: 'Password hashes computed (scrypt), by operation: hash (a new password, or a rehash at the current cost) or verify (a sign-in)',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly accessTokenVerifications = new Counter({
    name: 'access_token_verifications_total',
    help: "Access tokens accepted, by how: verified (signature checked) or remembered (verified before by this process, not expired); a revoked session is refused either way",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
