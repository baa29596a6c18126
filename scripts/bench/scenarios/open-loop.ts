// (j) open-loop: latency at a fixed arrival rate rather than at a fixed number of connections.
// The same check pairs as (a) and (b), arriving at OPEN_LOOP_RATE per second whatever the answers'
// speed: one scheduler in this process starts each request when it is due (fetch over keep-alive
// connections for the service, the gRPC client for SpiceDB) and counts its latency from then.
import type { Bench } from '../bench.ts';
import { serviceRequest } from '../bench.ts';
import { log } from '../infra.ts';
import { measureCallsAtRate, measureHttpAtRate, type Measurement } from '../measure.ts';
import { OPEN_LOOP_RATE, SHAPE } from '../settings.ts';
import { checkOnce } from './direct-check.ts';

export interface OpenLoop {
  ratePerSecond: number;
  service: Measurement;
  direct: Measurement;
}

export async function openLoop(bench: Bench): Promise<OpenLoop> {
  log(`measuring (j) checks arriving at ${OPEN_LOOP_RATE}/s, through the service and direct`);
  // `connections` only labels the rows: an open loop opens what the requests in flight need.
  const shape = { ...SHAPE, connections: 0, ratePerSecond: OPEN_LOOP_RATE };
  const names = {
    service: `(j) POST /authz/check (service), open loop ${OPEN_LOOP_RATE}/s`,
    direct: `(j) CheckPermission direct, open loop ${OPEN_LOOP_RATE}/s`,
  };
  const service = await bench.recorder.record(
    measureHttpAtRate(names.service, serviceRequest(bench, '/api/v1/authz/check', bench.workload.checkBodies), shape, bench.recorder.cpuProbe(names.service)),
  );
  const direct = await bench.recorder.record(
    measureCallsAtRate(names.direct, () => checkOnce(bench), shape, bench.recorder.cpuProbe(names.direct)),
  );
  return { ratePerSecond: OPEN_LOOP_RATE, service, direct };
}
