// (a) service-check: POST /authz/check through the service, with the service-account key.
import { serviceRequest, type Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { histogramTotals, meanOfRuns, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { SHAPE } from '../settings.ts';

export interface ServiceCheck {
  measurement: Measurement;
  /** Mean time inside the service (its own HTTP histogram) during the run, in ms. */
  serverMeanMs: number;
  /** Of which, mean time of its CheckPermission calls to SpiceDB, in ms. */
  spicedbMeanMs: number;
}

const ROUTE = '/api/v1/authz/check';

/** `run` numbers the run where (a) and (b) alternate (run.ts). */
export async function serviceCheck(bench: Bench, run?: number): Promise<ServiceCheck> {
  log(`measuring (a) POST /authz/check through the service${run ? `, run ${run}` : ''}`);
  const name = `(a) POST /authz/check (service)${run ? `, run ${run}` : ''}`;
  const metricsUrl = `${bench.service.url}/metrics`;
  const totals = async () => ({
    http: await histogramTotals(metricsUrl, 'http_request_duration_seconds', { route: ROUTE }),
    spicedb: await histogramTotals(metricsUrl, 'spicedb_call_duration_seconds', { method: 'CheckPermission' }),
  });
  const cpu = bench.recorder.cpuProbe(name);
  let before = { http: { sum: 0, count: 0 }, spicedb: { sum: 0, count: 0 } };
  let after = before;
  const measurement = await bench.recorder.record(
    measureHttp(name, serviceRequest(bench, ROUTE, bench.workload.checkBodies), SHAPE, {
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
  return { measurement, serverMeanMs: meanMs(before.http, after.http), spicedbMeanMs: meanMs(before.spicedb, after.spicedb) };
}

/** The mean of two runs of (a), with the service's own means averaged alike. */
export function meanOfServiceChecks(runs: ServiceCheck[]): ServiceCheck {
  const mean = (field: 'serverMeanMs' | 'spicedbMeanMs') => runs.reduce((sum, run) => sum + run[field], 0) / runs.length;
  return {
    measurement: meanOfRuns('(a) POST /authz/check (service), mean of runs', runs.map((run) => run.measurement)),
    serverMeanMs: mean('serverMeanMs'),
    spicedbMeanMs: mean('spicedbMeanMs'),
  };
}

/** The same at one connection: the service's added latency when the machine is not saturated. */
export async function serviceCheckAtOneConnection(bench: Bench): Promise<Measurement> {
  const name = '(a) POST /authz/check (service), 1 connection';
  const one: LoadShape = { ...SHAPE, connections: 1 };
  return bench.recorder.record(measureHttp(name, serviceRequest(bench, ROUTE, bench.workload.checkBodies), one, bench.recorder.cpuProbe(name)));
}
