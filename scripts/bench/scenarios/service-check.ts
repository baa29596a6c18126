// (a) service-check: POST /authz/check through the service, with the service-account key.
import { serviceRequest, type Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { cacheLookups, histogramTotals, meanOfRuns, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { SHAPE } from '../settings.ts';

export interface ServiceCheck {
  measurement: Measurement;
  /** Mean time inside the service (its own HTTP histogram) during the run, in ms. */
  serverMeanMs: number;
  /** Mean time of its calls to SpiceDB (a lone CheckPermission, or the CheckBulkPermissions of checks sent together), in ms. */
  spicedbMeanMs: number;
  /** Checks the decision cache could not answer, per SpiceDB call (above 1 where concurrent checks went together). */
  checksPerCall: number;
}

export const CHECK_ROUTE = '/api/v1/authz/check';

/** `run` numbers the run where (a) and (b) alternate (run.ts). */
export async function serviceCheck(bench: Bench, run?: number): Promise<ServiceCheck> {
  log(`measuring (a) POST /authz/check through the service${run ? `, run ${run}` : ''}`);
  const name = `(a) POST /authz/check (service)${run ? `, run ${run}` : ''}`;
  const metricsUrl = `${bench.service.url}/metrics`;
  const totals = async () => ({
    http: await histogramTotals(metricsUrl, 'http_request_duration_seconds', { route: CHECK_ROUTE }),
    spicedb: sumOf(
      await Promise.all(
        ['CheckPermission', 'CheckBulkPermissions'].map((method) => histogramTotals(metricsUrl, 'spicedb_call_duration_seconds', { method })),
      ),
    ),
    asked: await cacheLookups(bench.service.url).then(({ miss, bypass }) => miss + bypass),
  });
  const cpu = bench.recorder.cpuProbe(name);
  let before = { http: { sum: 0, count: 0 }, spicedb: { sum: 0, count: 0 }, asked: 0 };
  let after = before;
  const measurement = await bench.recorder.record(
    measureHttp(name, serviceRequest(bench, CHECK_ROUTE, bench.workload.checkBodies), SHAPE, {
      before: async () => {
        before = await totals();
        await cpu.before();
      },
      after: async () => {
        await cpu.after();
        after = await totals();
      },
    }),
  );
  const meanMs = (from: { sum: number; count: number }, to: { sum: number; count: number }) =>
    ((to.sum - from.sum) / Math.max(1, to.count - from.count)) * 1000;
  return {
    measurement,
    serverMeanMs: meanMs(before.http, after.http),
    spicedbMeanMs: meanMs(before.spicedb, after.spicedb),
    checksPerCall: (after.asked - before.asked) / Math.max(1, after.spicedb.count - before.spicedb.count),
  };
}

function sumOf(totals: Array<{ sum: number; count: number }>): { sum: number; count: number } {
  return totals.reduce((all, one) => ({ sum: all.sum + one.sum, count: all.count + one.count }), { sum: 0, count: 0 });
}

/** The mean of runs of (a), with the service's own means averaged alike. */
export function meanOfServiceChecks(runs: ServiceCheck[]): ServiceCheck {
  const mean = (field: 'serverMeanMs' | 'spicedbMeanMs' | 'checksPerCall') => runs.reduce((sum, run) => sum + run[field], 0) / runs.length;
  return {
    measurement: meanOfRuns('(a) POST /authz/check (service), mean of runs', runs.map((run) => run.measurement)),
    serverMeanMs: mean('serverMeanMs'),
    spicedbMeanMs: mean('spicedbMeanMs'),
    checksPerCall: mean('checksPerCall'),
  };
}

/** The same at one connection: the service's added latency when the machine is not saturated. */
export async function serviceCheckAtOneConnection(bench: Bench): Promise<Measurement> {
  const name = '(a) POST /authz/check (service), 1 connection';
  const one: LoadShape = { ...SHAPE, connections: 1 };
  return bench.recorder.record(measureHttp(name, serviceRequest(bench, CHECK_ROUTE, bench.workload.checkBodies), one, bench.recorder.cpuProbe(name)));
}
