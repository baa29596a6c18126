// What every scenario works with: the running processes, the workload, and a recorder that keeps
// each measurement, its CPU time, and the scenarios that failed too many requests.
import type { v1 } from '@authzed/authzed-node';
import { cpuSample, type CpuSample } from './cpu.ts';
import type { BenchDatabase, ServiceProcess, SpiceDbServer } from './infra.ts';
import type { HttpScenario, Measurement, Probe } from './measure.ts';
import { MAX_ERROR_RATE } from './settings.ts';
import { pick, type Workload } from './workload.ts';

export interface Bench {
  service: ServiceProcess;
  spicedbServer: SpiceDbServer;
  /** A gRPC client straight to SpiceDB, for the direct scenarios. */
  spicedb: v1.ZedClientInterface;
  database: BenchDatabase;
  /** A service-account key that may check and write chatbot relationships. */
  serviceKey: string;
  workload: Workload;
  recorder: Recorder;
  cleanups: Array<() => Promise<void> | void>;
}

/** A POST to the service with the service-account key and one of `bodies`, picked per request. */
export function serviceRequest(bench: Bench, path: string, bodies: string[]): HttpScenario {
  return {
    baseUrl: bench.service.url,
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${bench.serviceKey}` },
    body: () => pick(bodies),
  };
}

export class Recorder {
  /** In report order. */
  readonly results: Measurement[] = [];
  /** CPU time of every process during each measured run, by scenario name. */
  readonly cpu = new Map<string, { before: CpuSample; after: CpuSample }>();
  /** Scenarios with too many failed requests (or writes); the run fails after printing every result. */
  readonly failures: string[] = [];
  private readonly pids: { service?: number | undefined; spicedb?: number | undefined };

  constructor(pids: { service?: number | undefined; spicedb?: number | undefined }) {
    this.pids = pids;
  }

  /** Samples the CPU time of the service and spicedb (the main ones unless told) around one measured window. */
  cpuProbe(scenario: string, pids = this.pids): Probe {
    let before = cpuSample(pids);
    return {
      before: () => {
        before = cpuSample(pids);
      },
      after: () => {
        this.cpu.set(scenario, { before, after: cpuSample(pids) });
      },
    };
  }

  /** Checks the error rate and keeps the measurement for the report. */
  async record(measuring: Promise<Measurement>): Promise<Measurement> {
    const measurement = this.checkErrors(await measuring);
    this.results.push(measurement);
    return measurement;
  }

  /** Checks the error rate without adding the measurement to the report yet (it is kept later, for its place in the table). */
  checkErrors(measurement: Measurement): Measurement {
    const total = measurement.requests + measurement.errors;
    if (total === 0 || measurement.errors / total > MAX_ERROR_RATE) {
      this.failures.push(`${measurement.scenario}: ${measurement.errors} of ${total} requests failed ${JSON.stringify(measurement.failures)}`);
    }
    return measurement;
  }
}
