// (f) consistency-cost: what the default (read your writes) costs against explicit
// minimize_latency, with no writes and with one write per 100 checks through /authz/relationships.
// SpiceDB's caches warm up over the run, so each pair runs in A-B-B-A order and the report takes
// the means.
import { serviceRequest, type Bench } from '../bench.ts';
import { relationshipWriter, writingProbe } from '../freshness.ts';
import { workspaceId } from '../graph.ts';
import { log } from '../infra.ts';
import { measureHttp, type Measurement } from '../measure.ts';
import { SHAPE, WRITES_PER_100_CHECKS } from '../settings.ts';

/** One report line per load (no writes, then writes): the means of each consistency. */
export async function consistencyCost(bench: Bench): Promise<string[]> {
  log('measuring (f) the default consistency against minimize_latency, without and with writes');
  const write = relationshipWriter({ baseUrl: bench.service.url, serviceKey: bench.serviceKey, workspaceId: workspaceId(0) });
  const lines: string[] = [];
  let intervalMs = 0;
  for (const writing of [false, true]) {
    const suffix = writing ? `${WRITES_PER_100_CHECKS} write / 100 checks` : 'no writes';
    const means = { default: [] as Measurement[], latency: [] as Measurement[] };
    for (const [kind, round] of [['default', 1], ['latency', 1], ['latency', 2], ['default', 2]] as const) {
      const name = `(f) check, ${kind === 'default' ? 'default (read_your_writes)' : 'minimize_latency'}, ${suffix}, run ${round}`;
      const bodies = kind === 'default' ? bench.workload.checkBodies : bench.workload.minimizeLatencyBodies;
      const writer = writing ? writingProbe(write, intervalMs, bench.recorder.cpuProbe(name)) : undefined;
      const measured = await bench.recorder.record(
        measureHttp(name, serviceRequest(bench, '/api/v1/authz/check', bodies), SHAPE, writer?.probe ?? bench.recorder.cpuProbe(name)),
      );
      means[kind].push(measured);
      if (writer) {
        const { made, failed } = writer.writes();
        if (failed > 0) bench.recorder.failures.push(`${name}: ${failed} of ${made} writes failed`);
      }
    }
    const mean = (rows: Measurement[], field: 'rps' | 'p50' | 'p99') => rows.reduce((sum, row) => sum + row[field], 0) / rows.length;
    lines.push(
      `(f) ${suffix}: default ${mean(means.default, 'rps').toFixed(0)} req/s, p50 ${mean(means.default, 'p50').toFixed(2)} ms, ` +
        `p99 ${mean(means.default, 'p99').toFixed(2)} ms; minimize_latency ${mean(means.latency, 'rps').toFixed(0)} req/s, ` +
        `p50 ${mean(means.latency, 'p50').toFixed(2)} ms, p99 ${mean(means.latency, 'p99').toFixed(2)} ms; ` +
        `default throughput ${((mean(means.default, 'rps') / mean(means.latency, 'rps')) * 100).toFixed(0)}% of minimize_latency` +
        (writing ? ` (one write every ${intervalMs} ms)` : ''),
    );
    // Writes at one per 100 of the write-free default's checks.
    intervalMs = Math.max(1, Math.round((100 / WRITES_PER_100_CHECKS / mean(means.default, 'rps')) * 1000));
  }
  return lines;
}
