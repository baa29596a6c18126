import autocannon from 'autocannon';

/** One scenario's numbers: latency percentiles are computed here from every successful call. */
export interface Measurement {
  scenario: string;
  connections: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Failures by kind: HTTP status, `timeout`, `error`, or a gRPC code. */
  failures: Record<string, number>;
}

export interface LoadShape {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summarize(
  scenario: string,
  connections: number,
  latencies: number[],
  failures: Record<string, number>,
  seconds: number,
): Measurement {
  const errors = Object.values(failures).reduce((sum, count) => sum + count, 0);
  const sorted = Float64Array.from(latencies).sort();
  const values = Array.from(sorted);
  const total = values.reduce((sum, value) => sum + value, 0);
  return {
    scenario,
    connections,
    requests: values.length,
    errors,
    seconds,
    rps: values.length / seconds,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    mean: values.length > 0 ? total / values.length : Number.NaN,
    failures,
  };
}

/** Called right before and after the measured run (not the warm-up), e.g. to sample CPU time. */
export interface Probe {
  before(): Promise<void> | void;
  after(): Promise<void> | void;
}

export interface HttpScenario {
  baseUrl: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Called for every request: a body picked from a pre-generated list. */
  body?: () => string;
}

async function cannon(scenario: HttpScenario, connections: number, seconds: number) {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const headers = { ...scenario.headers, ...(scenario.body && { 'content-type': 'application/json' }) };
  const makeBody = scenario.body;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: scenario.baseUrl,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: scenario.method,
            path: scenario.path,
            headers,
            ...(makeBody && { setupRequest: (request: autocannon.Request) => ({ ...request, body: makeBody() }) }),
          },
        ],
      },
      (error: unknown, finished: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failures[String(statusCode)] = (failures[String(statusCode)] ?? 0) + 1;
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  if (result.timeouts > 0) failures.timeout = result.timeouts;
  if (result.errors - result.timeouts > 0) failures.error = result.errors - result.timeouts;
  return { latencies, failures, elapsed };
}

/**
 * The mean of runs of one scenario (A-B-B-A orders), for the aims' ratios only: each run keeps its
 * own table row. Rates, percentiles and means are averaged run by run, unweighted; requests and
 * errors are summed over the runs, and seconds too, so requests / seconds is still the rate.
 */
export function meanOfRuns(scenario: string, runs: Measurement[]): Measurement {
  const mean = (field: 'rps' | 'p50' | 'p95' | 'p99' | 'mean') => runs.reduce((sum, run) => sum + run[field], 0) / runs.length;
  const total = (field: 'requests' | 'errors') => runs.reduce((sum, run) => sum + run[field], 0);
  return {
    scenario,
    connections: runs[0]?.connections ?? 0,
    requests: total('requests'),
    errors: total('errors'),
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
    rps: mean('rps'),
    p50: mean('p50'),
    p95: mean('p95'),
    p99: mean('p99'),
    mean: mean('mean'),
    failures: {},
  };
}

/** Warm up, then a fixed-duration autocannon run at a fixed number of connections. */
export async function measureHttp(name: string, scenario: HttpScenario, shape: LoadShape, probe?: Probe): Promise<Measurement> {
  if (shape.warmupSeconds > 0) await cannon(scenario, shape.connections, shape.warmupSeconds);
  await probe?.before();
  const { latencies, failures, elapsed } = await cannon(scenario, shape.connections, shape.durationSeconds);
  await probe?.after();
  return summarize(name, shape.connections, latencies, failures, elapsed);
}

async function loop(call: () => Promise<unknown>, connections: number, seconds: number) {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  const end = started + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        await call();
        latencies.push(performance.now() - sent);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        const kind = typeof code === 'number' ? `grpc ${code}` : 'error';
        failures[kind] = (failures[kind] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  return { latencies, failures, elapsed: (performance.now() - started) / 1000 };
}

/** The same shape for calls made from this process: `connections` concurrent lanes, each awaiting its last call. */
export async function measureCalls(
  name: string,
  call: () => Promise<unknown>,
  shape: LoadShape,
  probe?: Probe,
): Promise<Measurement> {
  if (shape.warmupSeconds > 0) await loop(call, shape.connections, shape.warmupSeconds);
  await probe?.before();
  const { latencies, failures, elapsed } = await loop(call, shape.connections, shape.durationSeconds);
  await probe?.after();
  return summarize(name, shape.connections, latencies, failures, elapsed);
}

/**
 * Open loop: requests arrive at a fixed rate whatever the answers' speed, sent with fetch over
 * keep-alive connections by the same scheduler as measureCallsAtRate, so the service and SpiceDB
 * are timed the same way. (autocannon's `overallRate` was tried first: it reported a p50 of
 * 207 ms at 75 requests/s for checks that answer in 6 ms at one connection.)
 */
export async function measureHttpAtRate(
  name: string,
  scenario: HttpScenario,
  shape: LoadShape & { ratePerSecond: number },
  probe?: Probe,
): Promise<Measurement> {
  const url = `${scenario.baseUrl}${scenario.path}`;
  const headers = { ...scenario.headers, ...(scenario.body && { 'content-type': 'application/json' }) };
  const send = async () => {
    const response = await fetch(url, { method: scenario.method, headers, ...(scenario.body && { body: scenario.body() }) });
    await response.arrayBuffer();
    if (response.status < 200 || response.status >= 300) throw Object.assign(new Error(`HTTP ${response.status}`), { kind: String(response.status) });
  };
  return measureCallsAtRate(name, send, shape, probe);
}

/**
 * The open loop for calls made from this process: one call is started every 1/rate seconds, and
 * its latency counts from when it was due, so a stall shows up in every call it delays.
 */
export async function measureCallsAtRate(
  name: string,
  call: () => Promise<unknown>,
  shape: LoadShape & { ratePerSecond: number },
  probe?: Probe,
): Promise<Measurement> {
  const run = async (seconds: number) => {
    const latencies: number[] = [];
    const failures: Record<string, number> = {};
    const interval = 1000 / shape.ratePerSecond;
    const started = performance.now();
    const calls: Array<Promise<void>> = [];
    for (let index = 0; index < seconds * shape.ratePerSecond; index++) {
      const due = started + index * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      calls.push(
        call().then(
          () => void latencies.push(performance.now() - due),
          (error: unknown) => {
            const { code, kind } = (error ?? {}) as { code?: unknown; kind?: unknown };
            const failure = typeof kind === 'string' ? kind : typeof code === 'number' ? `grpc ${code}` : 'error';
            failures[failure] = (failures[failure] ?? 0) + 1;
          },
        ),
      );
    }
    await Promise.all(calls);
    return { latencies, failures, elapsed: (performance.now() - started) / 1000 };
  };
  if (shape.warmupSeconds > 0) await run(shape.warmupSeconds);
  await probe?.before();
  const { latencies, failures, elapsed } = await run(shape.durationSeconds);
  await probe?.after();
  return summarize(name, shape.connections, latencies, failures, elapsed);
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function table(rows: Measurement[]): string {
  const header = ['scenario', 'conns', 'requests/s', 'p50 ms', 'p95 ms', 'p99 ms', 'requests', 'errors'];
  const body = rows.map((row) => [
    row.scenario,
    String(row.connections),
    fixed(row.rps, 0),
    fixed(row.p50, 2),
    fixed(row.p95, 2),
    fixed(row.p99, 2),
    String(row.requests),
    row.errors === 0
      ? '0'
      : `${row.errors} (${Object.entries(row.failures).map(([kind, count]) => `${kind}: ${count}`).join(', ')})`,
  ]);
  const lines = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** Sum and count of one Prometheus histogram series (labels matched as a subset). */
export async function histogramTotals(
  metricsUrl: string,
  metric: string,
  labels: Record<string, string>,
): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  const read = (suffix: 'sum' | 'count') =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${metric}_${suffix}{`))
      .filter((line) => Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`)))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { sum: read('sum'), count: read('count') };
}

/** The service's decision-cache lookups so far, by result (`authz_decision_cache_lookups_total`). */
export async function cacheLookups(baseUrl: string): Promise<{ hit: number; miss: number; bypass: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const count = (result: string) => Number(new RegExp(`^authz_decision_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss'), bypass: count('bypass') };
}
