import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system, ms) spent by each part of the benchmark, read from /proc: this process
 * (autocannon or the direct gRPC client), the service, spicedb, and every postgres process
 * (SpiceDB's datastore and the service's database share one server). Linux only; elsewhere
 * every figure is 0.
 */
export interface CpuSample {
  bench: number;
  service: number;
  spicedb: number;
  postgres: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function processTimes(pid: number): { comm: string; ms: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After the comm: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return { comm, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}

export function cpuSample(pids: { service?: number | undefined; spicedb?: number | undefined }): CpuSample {
  const self = process.cpuUsage();
  let postgres = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const times = processTimes(Number(entry));
      if (times?.comm === 'postgres') postgres += times.ms;
    }
  } catch {
    // no /proc
  }
  return {
    bench: (self.user + self.system) / 1000,
    service: pids.service ? (processTimes(pids.service)?.ms ?? 0) : 0,
    spicedb: pids.spicedb ? (processTimes(pids.spicedb)?.ms ?? 0) : 0,
    postgres,
  };
}

/** CPU ms per request of each part between two samples. */
export function cpuPerRequest(before: CpuSample, after: CpuSample, requests: number): CpuSample {
  const per = (key: keyof CpuSample) => (after[key] - before[key]) / Math.max(1, requests);
  return { bench: per('bench'), service: per('service'), spicedb: per('spicedb'), postgres: per('postgres') };
}

export function cpuTotal(cpu: CpuSample): number {
  return cpu.bench + cpu.service + cpu.spicedb + cpu.postgres;
}
