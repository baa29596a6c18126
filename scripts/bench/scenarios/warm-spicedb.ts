// (i) warm-spicedb: the check path when SpiceDB is fast. A `spicedb serve` on the memory datastore
// holds a one-organization graph (2,500 chatbot/user pairs); a second service on a fresh database
// answers POST /authz/check over it, next to the same checks sent straight to that SpiceDB, at one
// connection (the added latency) and at 32 (the throughput). The service runs twice: as
// configured by default (decision cache on), and with DECISION_CACHE_ENTRIES=0, which shows the
// cost of the path itself.
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { Bench } from '../bench.ts';
import { writeTuples } from '../graph.ts';
import { createDatabase, log, startService, startSpiceDb } from '../infra.ts';
import { measureCalls, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { api, sleep } from '../seeding.ts';
import { POSTGRES_URL, QUANTIZATION_WAIT_MS, SHAPE } from '../settings.ts';
import { checkItem, oneOrganizationPairs, oneOrganizationTuples, pick, type CheckPair } from '../workload.ts';
import { chatbotOf, deadline, minimizeLatency, subjectOf } from './direct-check.ts';
import { openOrm } from '../../../src/db/orm.ts';
import { ServiceAccountService } from '../../../src/services/service-account.service.ts';
import { readPolicy } from '../../../src/authz/policy-modules.ts';

export interface WarmRun {
  connections: number;
  service: Measurement;
  uncached: Measurement;
  direct: Measurement;
}

const ROUTE = '/api/v1/authz/check';

export async function warmSpiceDb(bench: Bench): Promise<WarmRun[]> {
  log('measuring (i) the check path over a warm SpiceDB (memory datastore, one organization)');
  const spicedbServer = startSpiceDb(POSTGRES_URL, 'memory');
  bench.cleanups.push(() => spicedbServer.stop());
  const spicedbPid = Number(spicedbServer.env.SPICEDB_PID);
  const client = v1.NewClient(spicedbServer.presharedKey, spicedbServer.endpoint, v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS);
  bench.cleanups.push(() => client.close());

  const database = await createDatabase(POSTGRES_URL);
  bench.cleanups.push(() => database.drop());
  const cached = await startService({ databaseUrl: database.url, spicedb: spicedbServer });
  bench.cleanups.push(() => cached.stop());
  const uncached = await startService({ databaseUrl: database.url, spicedb: spicedbServer, environment: { DECISION_CACHE_ENTRIES: '0' } });
  bench.cleanups.push(() => uncached.stop());
  const orm = await openOrm(database.url);
  const key = await ServiceAccountService.forAdministration(orm, readPolicy(undefined))
    .create('bench-warm', ['chatbot'], { trusted: true })
    .then((created) => created.key)
    .finally(() => orm.close());

  // The services wrote the schema at boot; the graph goes straight to SpiceDB.
  await writeTuples(client, oneOrganizationTuples());
  await sleep(QUANTIZATION_WAIT_MS);
  const pairs: CheckPair[] = oneOrganizationPairs();
  const sample = pairs.slice(0, 200);
  for (const service of [cached, uncached]) {
    const answered = await api<{ results: Array<{ allowed: boolean }> }>(service.url, '/api/v1/authz/check-bulk', {
      token: key,
      body: { items: sample.map(checkItem) },
    });
    if (sample.some((pair, index) => answered.results[index]?.allowed !== pair.expected)) {
      throw new Error('(i) the warm graph answers differently from the one seeded');
    }
  }
  log(`(i) ${pairs.length} pairs; both services agree with the graph`);

  const bodies = pairs.map((pair) => JSON.stringify(checkItem(pair)));
  const request = (url: string) => ({
    baseUrl: url,
    method: 'POST' as const,
    path: ROUTE,
    headers: { authorization: `Bearer ${key}` },
    body: () => pick(bodies),
  });
  const direct = () => {
    const pair = pick(pairs);
    return client.promises.checkPermission(
      v1.CheckPermissionRequest.create({ consistency: minimizeLatency, resource: chatbotOf(pair.chatbot), permission: 'view', subject: subjectOf(pair.user) }),
      new Metadata(),
      deadline(),
    );
  };
  const runs: WarmRun[] = [];
  for (const connections of [1, 32]) {
    const shape: LoadShape = { ...SHAPE, connections };
    const label = `warm SpiceDB, ${connections} connection${connections === 1 ? '' : 's'}`;
    const probe = (name: string, service?: number) => bench.recorder.cpuProbe(name, { service, spicedb: spicedbPid });
    const names = {
      service: `(i) POST /authz/check (service), ${label}`,
      uncached: `(i) POST /authz/check (service, no decision cache), ${label}`,
      direct: `(i) CheckPermission direct, ${label}`,
    };
    runs.push({
      connections,
      service: await bench.recorder.record(measureHttp(names.service, request(cached.url), shape, probe(names.service, cached.pid))),
      uncached: await bench.recorder.record(measureHttp(names.uncached, request(uncached.url), shape, probe(names.uncached, uncached.pid))),
      direct: await bench.recorder.record(measureCalls(names.direct, direct, shape, probe(names.direct))),
    });
  }
  return runs;
}
