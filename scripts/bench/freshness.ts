/**
 * What read-your-writes costs and how fast it travels: a writer loop that keeps 1 write per 100
 * checks during a measured run, and the delay for one instance's write to become the floor of
 * another (both through the real HTTP API).
 */
import type { Probe } from './measure.ts';

export interface Writes {
  baseUrl: string;
  serviceKey: string;
  workspaceId: string;
}

/** Registers then removes bench chatbots through /authz/relationships, one write per call. */
export function relationshipWriter(writes: Writes): (sequence: number) => Promise<Response> {
  return (sequence) => {
    const chatbot = { type: 'chatbot', id: `bench_fresh_${Math.floor(sequence / 2)}` };
    return fetch(`${writes.baseUrl}/api/v1/authz/relationships`, {
      method: sequence % 2 === 0 ? 'POST' : 'DELETE',
      headers: { authorization: `Bearer ${writes.serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        relationships: [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: writes.workspaceId } }],
      }),
      signal: AbortSignal.timeout(10_000),
    });
  };
}

/**
 * A probe that writes every `intervalMs` while the measured run lasts: with the interval set from
 * the write-free check rate, about one write per 100 checks. Reports how many it made.
 */
export function writingProbe(write: (sequence: number) => Promise<Response>, intervalMs: number, inner: Probe) {
  let timer: NodeJS.Timeout | undefined;
  let sequence = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const probe: Probe = {
    before: async () => {
      await inner.before();
      timer = setInterval(() => {
        const sent = write(sequence++)
          .then(async (response) => {
            if (!response.ok) failed++;
            await response.arrayBuffer();
          })
          .catch(() => {
            failed++;
          })
          .finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }, intervalMs);
    },
    after: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      await inner.after();
    },
  };
  return { probe, writes: () => ({ made: sequence, failed }) };
}

export interface Propagation {
  writes: number;
  /** Checks sent to the second instance the moment the first acknowledged a write, that saw it. */
  freshOnOther: number;
  /** Bucket upper bounds (ms) of the second instance's authz_floor_propagation_seconds: p50, p99, max. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * `count` registrations on `first`, each followed at once (no pause) by a default check on
 * `second` that must see it, then the second instance's own measure of how long each
 * announcement took to arrive.
 */
export async function measurePropagation(options: {
  first: string;
  second: string;
  serviceKey: string;
  workspaceId: string;
  userId: string;
  count: number;
}): Promise<Propagation> {
  const headers = { authorization: `Bearer ${options.serviceKey}`, 'content-type': 'application/json' };
  const before = await propagationBuckets(options.second);
  let freshOnOther = 0;
  for (let index = 0; index < options.count; index++) {
    const chatbot = { type: 'chatbot', id: `bench_propagation_${index}` };
    const written = await fetch(`${options.first}/api/v1/authz/relationships`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        relationships: [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: options.workspaceId } }],
      }),
    });
    if (!written.ok) throw new Error(`a propagation write answered ${written.status}`);
    await written.arrayBuffer();
    const checked = await fetch(`${options.second}/api/v1/authz/check`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ resource: chatbot, permission: 'view', subject: { type: 'user', id: options.userId } }),
    });
    if ((((await checked.json()) as { allowed?: boolean }).allowed ?? false) === true) freshOnOther++;
  }
  const after = await propagationBuckets(options.second);
  const counts = after.map(([bound, count], index) => [bound, count - (before[index]?.[1] ?? 0)] as const);
  const total = counts.at(-1)?.[1] ?? 0;
  const quantile = (q: number) => (counts.find(([, count]) => count >= q * total)?.[0] ?? Number.NaN) * 1000;
  return { writes: options.count, freshOnOther, p50Ms: quantile(0.5), p99Ms: quantile(0.99), maxMs: quantile(1) };
}

/** Cumulative [upper bound in seconds, count] pairs of the histogram, +Inf last. */
async function propagationBuckets(baseUrl: string): Promise<Array<readonly [number, number]>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return [...text.matchAll(/^authz_floor_propagation_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map(
    ([, bound = '', count = '0']) => [bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound), Number(count)] as const,
  );
}
