/**
 * `npm run bench`: the service's authorization and list endpoints against a real `spicedb serve`
 * on Postgres, on a seeded graph, next to the same checks sent straight to SpiceDB. See
 * BENCHMARKS.md for the method and the last results. Traffic goes to 127.0.0.1 only; every loop
 * is bounded by time; everything started here is stopped at the end, also on failure.
 *
 * Environment (all optional): BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_CONNECTIONS (16), BENCH_DURATION_SECONDS (8), BENCH_WARMUP_SECONDS (2),
 * BENCH_CPU_PROFILE_DIR (profile the service with --cpu-prof into this folder),
 * BENCH_RESULTS_JSON (also write the results to this file).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { openOrm } from '../../src/db/orm.ts';
import { PasswordHasher } from '../../src/services/password-hasher.ts';
import { ServiceAccountService } from '../../src/services/service-account.service.ts';
import {
  CHATBOTS_PER_WORKSPACE,
  Graph,
  POWER_USER_EMAIL,
  POWER_USER_ORGS,
  USERS_PER_ORG,
  WORKSPACES_PER_ORG,
  chatbotId,
  insertRows,
  stepTuples,
  userId,
  workspaceId,
  writeTuples,
  type GraphStep,
} from './graph.ts';
import {
  createDatabase,
  ensureTools,
  log,
  startService,
  startSpiceDb,
  toolVersion,
  withClient,
  type BenchDatabase,
  type ServiceProcess,
  type SpiceDbServer,
} from './infra.ts';
import { cpuPerRequest, cpuSample, cpuTotal, type CpuSample } from './cpu.ts';
import { measurePropagation, relationshipWriter, writingProbe, type Propagation } from './freshness.ts';
import {
  histogramTotals,
  measureCalls,
  measureHttp,
  table,
  type HttpScenario,
  type LoadShape,
  type Measurement,
  type Probe,
} from './measure.ts';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const SHAPE: LoadShape = {
  connections: Math.round(positive('BENCH_CONNECTIONS', 16)),
  durationSeconds: positive('BENCH_DURATION_SECONDS', 8),
  warmupSeconds: positive('BENCH_WARMUP_SECONDS', 2),
};
/**
 * check-bulk carries 100 checks a request: at 16 connections (1,600 checks in flight) SpiceDB on
 * this machine answers each bulk call in about 2.2 s, past the service's 2 s SpiceDB deadline, so
 * nearly every request is a 503. Two connections keep it inside the deadline.
 */
const BULK_SHAPE: LoadShape = { ...SHAPE, connections: Math.round(positive('BENCH_BULK_CONNECTIONS', 2)) };
const PASSWORD = 'bench-password-1';
/** BENCH_ONLY=a,b limits the run to those scenarios (e.g. to profile one); the default is all. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d,e,f,g').split(',').map((letter) => letter.trim()));
const wants = (letter: 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g') => ONLY.has(letter);
/** Writes per 100 checks in the mixed scenarios of (f). */
const WRITES_PER_100_CHECKS = 1;
/** Registrations on one instance, each checked at once on another, in (g). */
const PROPAGATION_WRITES = 200;
const SMALL: GraphStep = { fromOrg: 0, toOrg: 100 };
const FULL: GraphStep = { fromOrg: 100, toOrg: 1_000 };
const TOTAL_ORGS = FULL.toOrg;
/** SpiceDB's default revision quantization (5 s, +10%): minimize_latency reads may lag a write by this much. */
const QUANTIZATION_WAIT_MS = 6_000;
/** Above this share of failed requests a scenario fails the run. */
const MAX_ERROR_RATE = 0.01;

const graph = new Graph([SMALL, FULL]);

/** mulberry32: the same pseudo-random pairs on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(20261125);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const below = (n: number) => Math.floor(rand() * n);

interface CheckPair {
  chatbot: string;
  user: string;
  expected: boolean;
}

/**
 * (chatbot, user) pairs over the full graph: a third entitled (owner, admin, or the workspace's
 * editor/viewer), a third plain members of the owning organization, a third any user.
 */
function checkPairs(count: number): CheckPair[] {
  const chatbots = TOTAL_ORGS * WORKSPACES_PER_ORG * CHATBOTS_PER_WORKSPACE;
  const users = TOTAL_ORGS * USERS_PER_ORG;
  return Array.from({ length: count }, (_, index) => {
    const c = below(chatbots);
    const w = Math.floor(c / CHATBOTS_PER_WORKSPACE);
    const o = Math.floor(w / WORKSPACES_PER_ORG);
    const j = w % WORKSPACES_PER_ORG;
    const u =
      index % 3 === 0
        ? graph.memberUser(o, pick([0, 1, 2, 3, 4, 5 + j, 10 + j]))
        : index % 3 === 1
          ? graph.memberUser(o, 15 + below(35))
          : below(users);
    return { chatbot: chatbotId(c), user: userId(u), expected: graph.canViewChatbot(c, u) };
  });
}

const checkItem = (pair: CheckPair) => ({
  resource: { type: 'chatbot', id: pair.chatbot },
  permission: 'chatbot:view',
  subject: { type: 'user', id: pair.user },
});

async function api<T>(baseUrl: string, path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * One growth step: bulk rows, then the tuples, then VACUUM ANALYZE of both databases. Without
 * statistics Postgres plans SpiceDB's tuple queries for empty tables (about 3x slower checks
 * until autovacuum catches up, at a moment no run controls); a production datastore has them.
 */
async function seedStep(
  databaseUrl: string,
  datastoreUrl: string,
  spicedb: v1.ZedClientInterface,
  step: GraphStep,
  passwordHash: string,
  withPowerUser: boolean,
): Promise<number> {
  const started = performance.now();
  await withClient(databaseUrl, (client) => insertRows(client, graph, step, passwordHash, withPowerUser));
  const rowsSeconds = (performance.now() - started) / 1000;
  const { written, batches } = await writeTuples(spicedb, stepTuples(graph, step, withPowerUser));
  const wroteAt = Date.now();
  await withClient(databaseUrl, (client) => client.query('vacuum analyze'));
  await withClient(datastoreUrl, (client) => client.query('vacuum analyze'));
  const seconds = (performance.now() - started) / 1000;
  log(
    `seeded organizations ${step.fromOrg}-${step.toOrg - 1}: Postgres rows in ${rowsSeconds.toFixed(1)} s, ` +
      `${written} tuples in ${batches} WriteRelationships, VACUUM ANALYZE; ${seconds.toFixed(1)} s in all`,
  );
  return wroteAt;
}

async function counts(databaseUrl: string): Promise<Record<string, number>> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<Record<string, string>>(
      `select (select count(*) from users) users, (select count(*) from organizations) organizations,
              (select count(*) from organization_memberships) organization_memberships,
              (select count(*) from workspaces) workspaces, (select count(*) from workspace_memberships) workspace_memberships`,
    );
    return Object.fromEntries(Object.entries(result.rows[0] ?? {}).map(([name, value]) => [name, Number(value)]));
  });
}

/** Scenarios with too many failed requests; the run fails after printing every result. */
const failedScenarios: string[] = [];
function assertFewErrors(measurement: Measurement): Measurement {
  const total = measurement.requests + measurement.errors;
  if (total === 0 || measurement.errors / total > MAX_ERROR_RATE) {
    failedScenarios.push(
      `${measurement.scenario}: ${measurement.errors} of ${total} requests failed ${JSON.stringify(measurement.failures)}`,
    );
  }
  return measurement;
}

async function main(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  const runStarted = performance.now();
  log('ensuring spicedb (scripts/tools.sh)');
  ensureTools();

  const spicedbServer: SpiceDbServer = startSpiceDb(POSTGRES_URL);
  cleanups.push(() => spicedbServer.stop());
  log(`spicedb serve on ${spicedbServer.endpoint}`);
  const datastoreUrl = spicedbServer.env.SPICEDB_DATASTORE_URL;
  if (!datastoreUrl) throw new Error('scripts/spicedb-serve.sh exported no SPICEDB_DATASTORE_URL');
  const database: BenchDatabase = await createDatabase(POSTGRES_URL);
  cleanups.push(() => database.drop());
  const service: ServiceProcess = await startService({
    databaseUrl: database.url,
    spicedb: spicedbServer,
    cpuProfileDir: process.env.BENCH_CPU_PROFILE_DIR,
  });
  cleanups.push(() => service.stop());
  log(`service ready on ${service.url} (log: ${service.logPath})`);

  const spicedb = v1.NewClient(spicedbServer.presharedKey, spicedbServer.endpoint, v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS);
  cleanups.push(() => spicedb.close());

  // One hash for every seeded user, and a service account, through the repo's own code.
  const passwordHash = await new PasswordHasher(10).hash(PASSWORD);
  const orm = await openOrm(database.url);
  const serviceKey = await ServiceAccountService.forAdministration(orm)
    .create('bench', ['chatbot'])
    .then(({ key }) => key)
    .finally(() => orm.close());

  // CPU time of every part during each measured run, by scenario name.
  const pids = { service: service.pid, spicedb: Number(spicedbServer.env.SPICEDB_PID) || undefined };
  const cpu = new Map<string, { before: CpuSample; after: CpuSample }>();
  const cpuProbe = (scenario: string): Probe => {
    let before = cpuSample(pids);
    return {
      before: () => {
        before = cpuSample(pids);
      },
      after: () => {
        cpu.set(scenario, { before, after: cpuSample(pids) });
      },
    };
  };

  // Small graph: the list endpoint's p95 at a tenth of the size.
  let lastWrite = await seedStep(database.url, datastoreUrl, spicedb, SMALL, passwordHash, true);
  const small = await counts(database.url);
  log(`small graph: ${JSON.stringify(small)}`);
  // The seed went straight to SpiceDB, behind the service's back: its read-your-writes floor
  // cannot know of it, so wait until SpiceDB's quantized revision includes it.
  await sleep(lastWrite + QUANTIZATION_WAIT_MS - Date.now());
  const session = await api<{ access_token: string }>(service.url, '/api/v1/auth/email/login', {
    body: { email: POWER_USER_EMAIL, password: PASSWORD },
  });
  const userToken = session.access_token;
  const listScenario = {
    baseUrl: service.url,
    method: 'GET' as const,
    path: `/api/v1/orgs?limit=${POWER_USER_ORGS}`,
    headers: { authorization: `Bearer ${userToken}` },
  };
  const listed = await api<unknown[]>(service.url, listScenario.path, { token: userToken });
  if (listed.length !== POWER_USER_ORGS) throw new Error(`GET /orgs listed ${listed.length} organizations, not ${POWER_USER_ORGS}`);
  let listSmall: Measurement | undefined;
  if (wants('d')) {
    log('measuring GET /orgs on the small graph');
    const LIST_SMALL = '(d) GET /orgs?limit=100, small graph';
    listSmall = assertFewErrors(await measureHttp(LIST_SMALL, listScenario, SHAPE, cpuProbe(LIST_SMALL)));
  }

  // Full graph.
  lastWrite = await seedStep(database.url, datastoreUrl, spicedb, FULL, passwordHash, false);
  const full = await counts(database.url);
  log(`full graph: ${JSON.stringify(full)}`);
  await sleep(lastWrite + QUANTIZATION_WAIT_MS - Date.now());

  const pairs = checkPairs(20_000);
  const serviceHeaders = { authorization: `Bearer ${serviceKey}` };

  // Sanity: the seeded graph answers as designed, through the service and straight from SpiceDB.
  const sample = pairs.slice(0, 300);
  const viaService = await api<{ results: Array<{ allowed: boolean }> }>(service.url, '/api/v1/authz/check-bulk', {
    token: serviceKey,
    body: { items: sample.map(checkItem) },
  });
  const wrong = sample.filter((pair, index) => viaService.results[index]?.allowed !== pair.expected);
  if (wrong.length > 0) throw new Error(`${wrong.length} of ${sample.length} sample checks disagree with the seeded graph`);
  const allowedShare = pairs.filter((pair) => pair.expected).length / pairs.length;
  log(`sample checks agree with the graph; ${(allowedShare * 100).toFixed(0)}% of the check pairs are allowed`);

  const checkBodies = pairs.map((pair) => JSON.stringify(checkItem(pair)));
  const minimizeLatencyBodies = pairs.map((pair) => JSON.stringify({ ...checkItem(pair), consistency: 'minimize_latency' }));
  const bulkBodies = Array.from({ length: 500 }, () =>
    JSON.stringify({ items: Array.from({ length: 100 }, () => checkItem(pick(pairs))) }),
  );
  const lookupBodies = Array.from({ length: 2_000 }, () => {
    // Owners and admins (u mod 10 < 5) of an organization: each reaches 50-100 chatbots.
    const u = below(TOTAL_ORGS) * USERS_PER_ORG + below(5);
    return JSON.stringify({
      resource_type: 'chatbot',
      permission: 'view',
      subject: { type: 'user', id: userId(u) },
      limit: 100,
    });
  });
  const looked = await api<{ resource_ids: string[] }>(service.url, '/api/v1/authz/lookup-resources', {
    token: serviceKey,
    body: JSON.parse(lookupBodies[0] ?? '{}'),
  });
  if (looked.resource_ids.length === 0) throw new Error('lookup-resources found no chatbot for an organization admin');

  const metricsUrl = `${service.url}/metrics`;
  const results: Measurement[] = [];
  const run = async (measuring: Promise<Measurement>) => {
    const measurement = assertFewErrors(await measuring);
    results.push(measurement);
    return measurement;
  };
  const http = (path: string, bodies: string[]): HttpScenario => ({
    baseUrl: service.url,
    method: 'POST',
    path,
    headers: serviceHeaders,
    body: () => pick(bodies),
  });
  const minimizeLatency = v1.Consistency.create({ requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } });
  const subjectOf = (id: string) => v1.SubjectReference.create({ object: v1.ObjectReference.create({ objectType: 'user', objectId: id }) });
  const chatbotOf = (id: string) => v1.ObjectReference.create({ objectType: 'chatbot', objectId: id });
  const deadline = () => ({ deadline: new Date(Date.now() + 2_000) }); // the service's SPICEDB_TIMEOUT_MS default
  const directCheck = () => {
    const pair = pick(pairs);
    return spicedb.promises.checkPermission(
      v1.CheckPermissionRequest.create({
        consistency: minimizeLatency,
        resource: chatbotOf(pair.chatbot),
        permission: 'view',
        subject: subjectOf(pair.user),
      }),
      new Metadata(),
      deadline(),
    );
  };

  let ours: Measurement | undefined;
  let httpBefore = { sum: 0, count: 0 };
  let spicedbBefore = { sum: 0, count: 0 };
  let httpAfter = httpBefore;
  let spicedbAfter = spicedbBefore;
  if (wants('a')) {
    log('measuring (a) POST /authz/check through the service');
    const CHECK = '(a) POST /authz/check (service)';
    const checkCpu = cpuProbe(CHECK);
    ours = await run(
      measureHttp(CHECK, http('/api/v1/authz/check', checkBodies), SHAPE, {
        before: async () => {
          httpBefore = await histogramTotals(metricsUrl, 'http_request_duration_seconds', { route: '/api/v1/authz/check' });
          spicedbBefore = await histogramTotals(metricsUrl, 'spicedb_call_duration_seconds', { method: 'CheckPermission' });
          await checkCpu.before();
        },
        after: async () => {
          await checkCpu.after();
          httpAfter = await histogramTotals(metricsUrl, 'http_request_duration_seconds', { route: '/api/v1/authz/check' });
          spicedbAfter = await histogramTotals(metricsUrl, 'spicedb_call_duration_seconds', { method: 'CheckPermission' });
        },
      }),
    );
  }

  let direct: Measurement | undefined;
  if (wants('b')) {
    log('measuring (b) CheckPermission straight to SpiceDB');
    const DIRECT = '(b) CheckPermission direct to SpiceDB';
    direct = await run(
      measureCalls(DIRECT, directCheck, SHAPE, cpuProbe(DIRECT)),
    );
  }

  // The same two at one connection: the service's added latency when the machine is not saturated.
  let oursIdle: Measurement | undefined;
  let directIdle: Measurement | undefined;
  if (wants('a') && wants('b')) {
    log('measuring (a) and (b) again at one connection');
    const ONE: LoadShape = { ...SHAPE, connections: 1 };
    const CHECK_ONE = '(a) POST /authz/check (service), 1 connection';
    oursIdle = await run(measureHttp(CHECK_ONE, http('/api/v1/authz/check', checkBodies), ONE, cpuProbe(CHECK_ONE)));
    const DIRECT_ONE = '(b) CheckPermission direct to SpiceDB, 1 connection';
    directIdle = await run(measureCalls(DIRECT_ONE, directCheck, ONE, cpuProbe(DIRECT_ONE)));
  }

  if (wants('c')) {
    log(`measuring (c) POST /authz/check-bulk at ${BULK_SHAPE.connections} connections, and the same straight to SpiceDB`);
    const BULK = '(c) POST /authz/check-bulk, 100 items';
    await run(measureHttp(BULK, http('/api/v1/authz/check-bulk', bulkBodies), BULK_SHAPE, cpuProbe(BULK)));
    const BULK_DIRECT = "(c') CheckBulkPermissions 100 items direct to SpiceDB";
    await run(
      measureCalls(
        BULK_DIRECT,
        () =>
          spicedb.promises.checkBulkPermissions(
            v1.CheckBulkPermissionsRequest.create({
              consistency: minimizeLatency,
              items: Array.from({ length: 100 }, () => {
                const pair = pick(pairs);
                return v1.CheckBulkPermissionsRequestItem.create({
                  resource: chatbotOf(pair.chatbot),
                  permission: 'view',
                  subject: subjectOf(pair.user),
                });
              }),
            }),
            new Metadata(),
            deadline(),
          ),
        BULK_SHAPE,
        cpuProbe(BULK_DIRECT),
      ),
    );
  }

  let listFull: Measurement | undefined;
  if (wants('d') && listSmall) {
    log('measuring (d) GET /orgs on the full graph');
    results.push(listSmall);
    const LIST_FULL = '(d) GET /orgs?limit=100, full graph';
    listFull = await run(measureHttp(LIST_FULL, listScenario, SHAPE, cpuProbe(LIST_FULL)));
  }

  if (wants('e')) {
    log('measuring (e) POST /authz/lookup-resources');
    const LOOKUP = '(e) POST /authz/lookup-resources chatbot, limit 100';
    await run(measureHttp(LOOKUP, http('/api/v1/authz/lookup-resources', lookupBodies), SHAPE, cpuProbe(LOOKUP)));
  }

  // (f) What the default (read your writes) costs against explicit minimize_latency, with no
  // writes and with one write per 100 checks through /authz/relationships. SpiceDB's caches warm
  // up over the run, so each pair runs in A-B-B-A order and the report takes the means.
  const consistencyCost: string[] = [];
  if (wants('f')) {
    log('measuring (f) the default consistency against minimize_latency, without and with writes');
    const write = relationshipWriter({ baseUrl: service.url, serviceKey, workspaceId: workspaceId(0) });
    let intervalMs = 0;
    for (const writing of [false, true]) {
      const suffix = writing ? `${WRITES_PER_100_CHECKS} write / 100 checks` : 'no writes';
      const means = { default: [] as Measurement[], latency: [] as Measurement[] };
      for (const [kind, round] of [['default', 1], ['latency', 1], ['latency', 2], ['default', 2]] as const) {
        const name = `(f) check, ${kind === 'default' ? 'default (read_your_writes)' : 'minimize_latency'}, ${suffix}, run ${round}`;
        const bodies = kind === 'default' ? checkBodies : minimizeLatencyBodies;
        const writer = writing ? writingProbe(write, intervalMs, cpuProbe(name)) : undefined;
        const measured = await run(measureHttp(name, http('/api/v1/authz/check', bodies), SHAPE, writer?.probe ?? cpuProbe(name)));
        means[kind].push(measured);
        if (writer) {
          const { made, failed } = writer.writes();
          if (failed > 0) failedScenarios.push(`${name}: ${failed} of ${made} writes failed`);
        }
      }
      const mean = (rows: Measurement[], field: 'rps' | 'p50' | 'p99') => rows.reduce((sum, row) => sum + row[field], 0) / rows.length;
      consistencyCost.push(
        `(f) ${suffix}: default ${mean(means.default, 'rps').toFixed(0)} req/s, p50 ${mean(means.default, 'p50').toFixed(2)} ms, ` +
          `p99 ${mean(means.default, 'p99').toFixed(2)} ms; minimize_latency ${mean(means.latency, 'rps').toFixed(0)} req/s, ` +
          `p50 ${mean(means.latency, 'p50').toFixed(2)} ms, p99 ${mean(means.latency, 'p99').toFixed(2)} ms; ` +
          `default throughput ${((mean(means.default, 'rps') / mean(means.latency, 'rps')) * 100).toFixed(0)}% of minimize_latency` +
          (writing ? ` (one write every ${intervalMs} ms)` : ''),
      );
      // Writes at one per 100 of the write-free default's checks.
      intervalMs = Math.max(1, Math.round((100 / WRITES_PER_100_CHECKS / mean(means.default, 'rps')) * 1000));
    }
  }

  // (g) A second instance on the same database and SpiceDB: how long until the first's write is
  // its floor, and whether a check sent to it the moment the first acknowledges a write sees it.
  let propagation: Propagation | undefined;
  if (wants('g')) {
    log(`measuring (g) floor propagation between two instances, ${PROPAGATION_WRITES} writes`);
    const second = await startService({ databaseUrl: database.url, spicedb: spicedbServer });
    cleanups.push(() => second.stop());
    propagation = await measurePropagation({
      first: service.url,
      second: second.url,
      serviceKey,
      workspaceId: workspaceId(0),
      // The owner of organization 0 views every chatbot of its workspaces.
      userId: userId(graph.memberUser(0, 0)),
      count: PROPAGATION_WRITES,
    });
    await second.stop();
  }

  const cpuRows = results.flatMap((measurement) => {
    const sampled = cpu.get(measurement.scenario);
    if (!sampled) return [];
    const perRequest = cpuPerRequest(sampled.before, sampled.after, measurement.requests);
    const cells = [perRequest.bench, perRequest.service, perRequest.spicedb, perRequest.postgres, cpuTotal(perRequest)];
    return [`| ${measurement.scenario} | ${cells.map((value) => value.toFixed(2)).join(' | ')} |`];
  });

  const p50Ratio = ours && direct ? ours.p50 / direct.p50 : Number.NaN;
  const throughputRatio = ours && direct ? ours.rps / direct.rps : Number.NaN;
  const listRatio = listFull && listSmall ? listFull.p95 / listSmall.p95 : Number.NaN;
  const serverMean = ((httpAfter.sum - httpBefore.sum) / Math.max(1, httpAfter.count - httpBefore.count)) * 1000;
  const spicedbMean = ((spicedbAfter.sum - spicedbBefore.sum) / Math.max(1, spicedbAfter.count - spicedbBefore.count)) * 1000;
  const runSeconds = (performance.now() - runStarted) / 1000;

  const out = [
    '',
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${toolVersion('spicedb')}`,
    `load: ${SHAPE.connections} connections (check-bulk: ${BULK_SHAPE.connections}), ${SHAPE.warmupSeconds} s warm-up + ` +
      `${SHAPE.durationSeconds} s per scenario; checks with no consistency (the read_your_writes default) unless the scenario says otherwise`,
    `small graph: ${JSON.stringify(small)}`,
    `full graph:  ${JSON.stringify(full)} + ${TOTAL_ORGS * WORKSPACES_PER_ORG * CHATBOTS_PER_WORKSPACE} chatbots (SpiceDB only)`,
    '',
    table(results),
    '',
    ...(ours && direct
      ? [
          `check, ours vs direct SpiceDB: p50 ${p50Ratio.toFixed(2)}x (aim <= 1.2x: ${p50Ratio <= 1.2 ? 'met' : 'MISSED'}), ` +
            `throughput ${(throughputRatio * 100).toFixed(0)}% (aim >= 80%: ${throughputRatio >= 0.8 ? 'met' : 'MISSED'})`,
          ...(oursIdle && directIdle
            ? [
                `at one connection: p50 ${oursIdle.p50.toFixed(2)} ms vs ${directIdle.p50.toFixed(2)} ms ` +
                  `(${(oursIdle.p50 / directIdle.p50).toFixed(2)}x, +${(oursIdle.p50 - directIdle.p50).toFixed(2)} ms)`,
              ]
            : []),
          `inside the service during (a): mean HTTP handling ${serverMean.toFixed(2)} ms, of which mean SpiceDB CheckPermission ` +
            `${spicedbMean.toFixed(2)} ms; client-observed mean ${ours.mean.toFixed(2)} ms (direct ${direct.mean.toFixed(2)} ms)`,
        ]
      : []),
    ...(listFull && listSmall
      ? [
          `GET /orgs?limit=100 p95: small graph ${listSmall.p95.toFixed(2)} ms, full graph (10x) ${listFull.p95.toFixed(2)} ms: ` +
            `${listRatio.toFixed(2)}x (aim flat, <= 1.2x: ${listRatio <= 1.2 ? 'met' : 'MISSED'})`,
        ]
      : []),
    ...consistencyCost,
    ...(propagation
      ? [
          `floor propagation between two instances, ${propagation.writes} writes: p50 <= ${propagation.p50Ms} ms, ` +
            `p99 <= ${propagation.p99Ms} ms, max <= ${propagation.maxMs} ms (histogram bucket bounds); ` +
            `${propagation.freshOnOther} of ${propagation.writes} checks sent to the other instance the moment a write was acknowledged saw it`,
        ]
      : []),
    '',
    'CPU time per request (ms), from /proc; 2 cores give 2,000 ms of CPU per second:',
    '| scenario | load generator | service | spicedb | postgres | total |',
    '| --- | --- | --- | --- | --- | --- |',
    ...cpuRows,
    '',
    `total runtime ${runSeconds.toFixed(0)} s`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (process.env.BENCH_RESULTS_JSON) {
    writeFileSync(
      process.env.BENCH_RESULTS_JSON,
      JSON.stringify({ shape: SHAPE, bulkShape: BULK_SHAPE, small, full, results, p50Ratio, throughputRatio, listRatio, serverMean, spicedbMean, propagation, runSeconds }, null, 2),
    );
  }
  if (failedScenarios.length > 0) {
    throw new Error(`more than ${MAX_ERROR_RATE * 100}% of requests failed in: ${failedScenarios.join('; ')}`);
  }
}


const cleanups: Array<() => Promise<void> | void> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  await main(cleanups);
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
}
await cleanUp();
process.exit(exitCode);
