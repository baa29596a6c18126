// (h) hot-set: 1,000 distinct (chatbot, user) pairs picked with a Zipf distribution, read-mostly,
// through the service (whose decision cache serves repeats) and straight to SpiceDB; then the same
// with one write per 100 checks through the API: registering or removing a chatbot outside the
// hot set, which retires the decisions about that chatbot only (src/authz/write-reach.ts); and
// direct to SpiceDB again while the same writes go on.
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { Bench } from '../bench.ts';
import { relationshipWriter, writingProbe } from '../freshness.ts';
import { log } from '../infra.ts';
import { cacheLookups, measureCalls, measureHttp, type Measurement } from '../measure.ts';
import { SHAPE } from '../settings.ts';
import { checkItem, type CheckPair } from '../workload.ts';
import { userId, workspaceId } from '../graph.ts';
import { graph } from '../workload.ts';
import { chatbotOf, deadline, minimizeLatency, subjectOf } from './direct-check.ts';

const HOT_PAIRS = 1_000;
const ZIPF_EXPONENT = 1;

/** Index k (0-based) with probability proportional to 1/(k+1)^s, by inverting the cumulative weights. */
function zipfPicker<T>(items: readonly T[]): () => T {
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 0; k < items.length; k++) cumulative.push((total += 1 / (k + 1) ** ZIPF_EXPONENT));
  let state = 20261126;
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  return () => {
    const target = next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? 0) < target) low = middle + 1;
      else high = middle;
    }
    return items[low] as T;
  };
}

export interface HotSet {
  hitRate: { quiet: number; writing: number };
  service: Measurement;
  direct: Measurement;
  writing: Measurement;
  /**
   * Direct to SpiceDB while the same writes go through the API at the same rate: every write
   * gives SpiceDB a new revision, so its own caches turn over too. The fair comparison for a
   * caller who would check around the service but still registers its resources through it.
   */
  directWriting: Measurement;
  /** Checks sent right after each acknowledged write, about what it changed, that missed it. */
  staleAnswers: number;
  writesChecked: number;
}

export async function hotSet(bench: Bench): Promise<HotSet> {
  log(`measuring (h) a hot set of ${HOT_PAIRS} pairs, Zipf-distributed, through the service and direct`);
  const pairs: CheckPair[] = bench.workload.pairs.slice(0, HOT_PAIRS);
  const bodies = pairs.map((pair) => JSON.stringify(checkItem(pair)));
  const pickBody = zipfPicker(bodies);
  const pickPair = zipfPicker(pairs);
  const service = {
    baseUrl: bench.service.url,
    method: 'POST' as const,
    path: '/api/v1/authz/check',
    headers: { authorization: `Bearer ${bench.serviceKey}` },
    body: pickBody,
  };
  const direct = () => {
    const pair = pickPair();
    return bench.spicedb.promises.checkPermission(
      v1.CheckPermissionRequest.create({ consistency: minimizeLatency, resource: chatbotOf(pair.chatbot), permission: 'view', subject: subjectOf(pair.user) }),
      new Metadata(),
      deadline(),
    );
  };
  const hitRate = async (measuring: () => Promise<Measurement>) => {
    const before = await cacheLookups(bench.service.url);
    const measurement = await measuring();
    const after = await cacheLookups(bench.service.url);
    const hits = after.hit - before.hit;
    return { measurement, rate: hits / Math.max(1, hits + after.miss - before.miss) };
  };

  const quietName = '(h) hot set: POST /authz/check (service)';
  const quiet = await hitRate(() => bench.recorder.record(measureHttp(quietName, service, SHAPE, bench.recorder.cpuProbe(quietName))));
  const directName = '(h) hot set: CheckPermission direct to SpiceDB';
  const directMeasurement = await bench.recorder.record(measureCalls(directName, direct, SHAPE, bench.recorder.cpuProbe(directName)));

  const writingName = '(h) hot set, 1 write / 100 checks: POST /authz/check (service)';
  const intervalMs = Math.max(1, Math.round((100 / quiet.measurement.rps) * 1000));
  const stale = staleAnswerCounter(bench);
  const writer = writingProbe(stale.writeThenCheck, intervalMs, bench.recorder.cpuProbe(writingName));
  const writing = await hitRate(() => bench.recorder.record(measureHttp(writingName, service, SHAPE, writer.probe)));
  const { made, failed } = writer.writes();
  if (failed > 0) bench.recorder.failures.push(`${writingName}: ${failed} of ${made} writes failed`);

  const directWritingName = '(h) hot set, 1 write / 100 checks: CheckPermission direct, the same writes through the API';
  const write = relationshipWriter({ baseUrl: bench.service.url, serviceKey: bench.serviceKey, workspaceId: workspaceId(0) });
  // Other chatbots than the service run's writer used.
  const directWriter = writingProbe((sequence) => write(sequence + 1_000_000), intervalMs, bench.recorder.cpuProbe(directWritingName));
  const directWriting = await bench.recorder.record(measureCalls(directWritingName, direct, SHAPE, directWriter.probe));
  const directWrites = directWriter.writes();
  if (directWrites.failed > 0) bench.recorder.failures.push(`${directWritingName}: ${directWrites.failed} of ${directWrites.made} writes failed`);
  if (stale.counts().stale > 0) bench.recorder.failures.push(`${writingName}: ${stale.counts().stale} stale answers after a write`);
  return {
    hitRate: { quiet: quiet.rate, writing: writing.rate },
    service: quiet.measurement,
    direct: directMeasurement,
    writing: writing.measurement,
    directWriting,
    staleAnswers: stale.counts().stale,
    writesChecked: stale.counts().checked,
  };
}

/**
 * The write mix's writer: registers, then removes, a chatbot in workspace 0, and the moment each
 * write is acknowledged asks the same service whether the workspace's owner may view it. The
 * answer must follow the write, although the previous one (allowed) sits in the decision cache.
 */
function staleAnswerCounter(bench: Bench) {
  const write = relationshipWriter({ baseUrl: bench.service.url, serviceKey: bench.serviceKey, workspaceId: workspaceId(0) });
  const owner = userId(graph.memberUser(0, 0));
  let stale = 0;
  let checked = 0;
  // One write and its check at a time: a later write (the removal) landing before the check of
  // the one before it would read as a stale answer although it is a newer one.
  let previous: Promise<unknown> = Promise.resolve();
  const writeThenCheck = (sequence: number) => {
    const next = previous.then(() => writeThenCheckOne(sequence));
    previous = next.catch(() => undefined);
    return next;
  };
  const writeThenCheckOne = async (sequence: number) => {
    const response = await write(sequence);
    if (!response.ok) return response;
    const chatbot = `bench_fresh_${Math.floor(sequence / 2)}`;
    const answer = await fetch(`${bench.service.url}/api/v1/authz/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bench.serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resource: { type: 'chatbot', id: chatbot }, permission: 'view', subject: { type: 'user', id: owner } }),
      signal: AbortSignal.timeout(10_000),
    });
    const { allowed } = (await answer.json()) as { allowed?: boolean };
    checked++;
    if (allowed !== (sequence % 2 === 0)) stale++;
    return response;
  };
  return { writeThenCheck, counts: () => ({ stale, checked }) };
}
