// (l) events: what telling other services costs and how fast they hear. On a database of its own
// (no other instance there to claim its deliveries), an instance with a webhook endpoint (a
// receiver in this process) and JetStream publishing (the machine's nats-server, a stream of this
// run's own), beside the same code with the event write turned off (service-without-events.ts).
//   1. the change path (POST /orgs/{id}/teams, one event each) at 1 connection, events on vs off, A-B-B-A;
//   2. changes arriving at 100/s for 20 s: the lag from each change's acknowledgement to its
//      webhook and to its JetStream message, p50/p99;
//   3. events written per second: the change at 16 connections, every answer one committed event;
//   4. events delivered per second: a backlog of 5,000 written at once, drained to the receiver and to the stream.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJwt } from 'jose';
import { appendAuditEvents } from '../../../src/audit/audit-log.ts';
import { openOrm } from '../../../src/db/orm.ts';
import { ServiceAccountService } from '../../../src/services/service-account.service.ts';
import { readPolicy } from '../../../src/authz/policy-modules.ts';
import type { Bench } from '../bench.ts';
import { createDatabase, log, startService, type ServiceProcess } from '../infra.ts';
import { summarize, type Measurement } from '../measure.ts';
import { api, sleep } from '../seeding.ts';
import { PASSWORD, POSTGRES_URL } from '../settings.ts';

const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const OWNERS = 10;
const WARMUP_CHANGES = 20;
const CHANGES_PER_ROUND = 200;
const LAG_RATE = 100;
const LAG_SECONDS = 20;
const WRITE_CONNECTIONS = 16;
const WRITE_SECONDS = 10;
const BACKLOG = 5_000;
const BACKLOG_BATCH = 1_000;
const DELIVERY_TIMEOUT_MS = 600_000;

export interface Spread {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface EventsCost {
  latency: { on: Measurement; off: Measurement };
  lag: { ratePerSecond: number; changes: number; failed: number; webhook: Spread; nats: Spread };
  written: { events: number; seconds: number; perSecond: number };
  delivered: { events: number; loadSeconds: number; webhookSeconds: number; natsSeconds: number };
}

interface Owner {
  userId: string;
  organizationId: string;
  token: string;
}

/** When each team's event arrived, by team id: the receiver and the JetStream consumer both fill one. */
type Arrivals = Map<string, number>;

export async function eventsCost(bench: Bench): Promise<EventsCost> {
  log('measuring (l) events: change latency with events on and off, lag at 100 changes/s, events written and delivered per second');
  const database = await createDatabase(POSTGRES_URL);
  bench.cleanups.push(() => database.drop());
  const run = Date.now().toString(36);
  const stream = `BENCH_EVENTS_${run.toUpperCase()}`;
  const environment = {
    EVENTS_NATS_URL: NATS_URL,
    EVENTS_NATS_STREAM: stream,
    EVENTS_NATS_SUBJECT_PREFIX: `bench_events_${run}`,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  };
  const on = await startService({ databaseUrl: database.url, spicedb: bench.spicedbServer, environment });
  bench.cleanups.push(() => on.stop());
  const off = await startService({ databaseUrl: database.url, spicedb: bench.spicedbServer, environment, entry: 'scripts/bench/service-without-events.ts' });
  bench.cleanups.push(() => off.stop());

  const webhookArrivals: Arrivals = new Map();
  const receiver = await startReceiver(webhookArrivals);
  bench.cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const nats = await connect({ servers: NATS_URL });
  bench.cleanups.push(async () => {
    await (await jetstreamManager(nats)).streams.delete(stream).catch(() => false);
    await nats.close();
  });

  // One at a time: signups share the password hasher's small queue.
  const owners: Owner[] = [];
  for (let index = 0; index < OWNERS; index++) owners.push(await signUp(on.url, `${run}_${index}`));
  const key = await serviceAccountKey(database.url);
  await api(on.url, '/api/v1/webhook-endpoints', {
    token: key,
    body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, event_types: ['team'] },
  });
  const natsArrivals: Arrivals = new Map();
  await consumeStream(nats, stream, natsArrivals);

  await createTeams(on, owners, WARMUP_CHANGES);
  await createTeams(off, owners, WARMUP_CHANGES);
  const rounds = { on: [] as Timed[], off: [] as Timed[] };
  for (const variant of ['on', 'off', 'off', 'on'] as const) {
    rounds[variant].push(await createTeams(variant === 'on' ? on : off, owners, CHANGES_PER_ROUND));
  }
  await off.stop();
  const latency = {
    on: await bench.recorder.record(Promise.resolve(merged('(l) team create at 1 connection, events on (webhook + JetStream)', rounds.on))),
    off: await bench.recorder.record(Promise.resolve(merged('(l) team create at 1 connection, events off (baseline instance)', rounds.off))),
  };

  const lag = await lagAtRate(on, owners, webhookArrivals, natsArrivals);
  const written = await writtenPerSecond(on, owners);
  const delivered = await deliveredPerSecond(database.url, owners, webhookArrivals, natsArrivals);
  return { latency, lag, written, delivered };
}

async function signUp(serviceUrl: string, suffix: string): Promise<Owner> {
  const name = `bench_events_${suffix}`;
  const session = await api<{ access_token: string }>(serviceUrl, '/api/v1/auth/email/signup', {
    body: { username: name, email: `${name}@bench.example`, password: PASSWORD },
  });
  const claims = decodeJwt(session.access_token);
  return { userId: String(claims.sub), organizationId: String(claims.org_id), token: session.access_token };
}

async function serviceAccountKey(databaseUrl: string): Promise<string> {
  const orm = await openOrm(databaseUrl);
  try {
    return (await ServiceAccountService.forAdministration(orm, readPolicy(undefined)).create(`bench-events-${Date.now()}`, [])).key;
  } finally {
    await orm.close();
  }
}

/** A receiver that answers 204 and notes when each team's event arrived. */
async function startReceiver(arrivals: Arrivals): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      noteArrival(arrivals, Buffer.concat(chunks).toString('utf8'));
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** An ordered consumer of the stream (created by the service's publisher at boot), noting arrivals. */
async function consumeStream(nats: NatsConnection, stream: string, arrivals: Arrivals): Promise<void> {
  const manager = await jetstreamManager(nats);
  for (let attempt = 0; ; attempt++) {
    const found = await manager.streams.info(stream).then(() => true, () => false);
    if (found) break;
    if (attempt > 100) throw new Error(`(l) the service never created the stream ${stream}`);
    await sleep(100);
  }
  const consumer = await jetstream(nats).consumers.get(stream);
  const messages = await consumer.consume();
  void (async () => {
    for await (const message of messages) noteArrival(arrivals, message.string());
  })();
}

function noteArrival(arrivals: Arrivals, body: string): void {
  const event = JSON.parse(body) as { data: { object: { id: string } } };
  if (!arrivals.has(event.data.object.id)) arrivals.set(event.data.object.id, performance.now());
}

interface Timed {
  latencies: number[];
  failures: Record<string, number>;
  seconds: number;
}

async function createTeam(service: ServiceProcess, owner: Owner, name: string): Promise<{ teamId: string; answeredAt: number } | { failure: string }> {
  const response = await fetch(`${service.url}/api/v1/orgs/${owner.organizationId}/teams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(30_000),
  }).catch(() => undefined);
  const body = response ? await response.text() : '';
  const answeredAt = performance.now();
  if (!response?.ok) return { failure: String(response?.status ?? 'error') };
  return { teamId: (JSON.parse(body) as { id: string }).id, answeredAt };
}

let teamNumber = 0;
const nextName = () => `bench team ${++teamNumber}`;

/** `count` team creations one after another, spread over the owners' organizations. */
async function createTeams(service: ServiceProcess, owners: Owner[], count: number): Promise<Timed> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const owner = owners[index % owners.length] as Owner;
    const sent = performance.now();
    const created = await createTeam(service, owner, nextName());
    if ('failure' in created) failures[created.failure] = (failures[created.failure] ?? 0) + 1;
    else latencies.push(created.answeredAt - sent);
  }
  return { latencies, failures, seconds: (performance.now() - started) / 1000 };
}

function merged(name: string, rounds: Timed[]): Measurement {
  const failures: Record<string, number> = {};
  for (const round of rounds) for (const [kind, count] of Object.entries(round.failures)) failures[kind] = (failures[kind] ?? 0) + count;
  return summarize(name, 1, rounds.flatMap((round) => round.latencies), failures, rounds.reduce((sum, round) => sum + round.seconds, 0));
}

/** Changes started at LAG_RATE per second whatever the answers' speed; each one's lag from its acknowledgement to its arrivals. */
async function lagAtRate(service: ServiceProcess, owners: Owner[], webhook: Arrivals, nats: Arrivals): Promise<EventsCost['lag']> {
  const answered = new Map<string, number>();
  let failed = 0;
  const inFlight: Array<Promise<void>> = [];
  const total = LAG_RATE * LAG_SECONDS;
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    await sleep(started + (index * 1000) / LAG_RATE - performance.now());
    inFlight.push(
      createTeam(service, owners[index % owners.length] as Owner, nextName()).then((created) => {
        if ('failure' in created) failed += 1;
        else answered.set(created.teamId, created.answeredAt);
      }),
    );
  }
  await Promise.all(inFlight);
  await waitForArrivals([...answered.keys()], webhook, nats);
  const lags = (arrivals: Arrivals) => [...answered].flatMap(([team, at]) => (arrivals.has(team) ? [(arrivals.get(team) ?? 0) - at] : []));
  return { ratePerSecond: LAG_RATE, changes: total, failed, webhook: spread(lags(webhook)), nats: spread(lags(nats)) };
}

async function writtenPerSecond(service: ServiceProcess, owners: Owner[]): Promise<EventsCost['written']> {
  let events = 0;
  const deadline = performance.now() + WRITE_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITE_CONNECTIONS }, async (_, connection) => {
      for (let index = connection; performance.now() < deadline; index += WRITE_CONNECTIONS) {
        const created = await createTeam(service, owners[index % owners.length] as Owner, nextName());
        if (!('failure' in created)) events += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { events, seconds, perSecond: events / seconds };
}

/**
 * BACKLOG events written at once through the audit log's own append (team.updated, a batch per
 * transaction under each organization's lock, as the unit of work holds it), then the time until
 * the receiver and the stream each hold all of them.
 */
async function deliveredPerSecond(databaseUrl: string, owners: Owner[], webhook: Arrivals, nats: Arrivals): Promise<EventsCost['delivered']> {
  const orm = await openOrm(databaseUrl);
  const teams: string[] = [];
  const loadStarted = performance.now();
  try {
    for (let done = 0; done < BACKLOG; done += BACKLOG_BATCH) {
      const owner = owners[(done / BACKLOG_BATCH) % owners.length] as Owner;
      const entries = Array.from({ length: BACKLOG_BATCH }, (_, index) => {
        const team = `backlog-${done + index}`;
        teams.push(team);
        return {
          actor: { type: 'user' as const, id: owner.userId },
          action: 'team.updated',
          target: { type: 'team', id: team },
          changes: { name: [null, team] as [unknown, unknown] },
        };
      });
      await orm.em.fork().transactional(async (em) => {
        await em.execute('select id from organizations where id = ? for update', [owner.organizationId]);
        await appendAuditEvents(em, owner.organizationId, entries);
      });
    }
  } finally {
    await orm.close();
  }
  const loaded = performance.now();
  const { webhookAt, natsAt } = await waitForArrivals(teams, webhook, nats);
  return { events: BACKLOG, loadSeconds: (loaded - loadStarted) / 1000, webhookSeconds: (webhookAt - loaded) / 1000, natsSeconds: (natsAt - loaded) / 1000 };
}

/** Waits until both the receiver and the stream have every team's event; when each got its last. */
async function waitForArrivals(teams: string[], webhook: Arrivals, nats: Arrivals): Promise<{ webhookAt: number; natsAt: number }> {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  const missing = (arrivals: Arrivals) => teams.filter((team) => !arrivals.has(team)).length;
  while (missing(webhook) + missing(nats) > 0) {
    if (performance.now() > deadline) throw new Error(`(l) ${missing(webhook)} webhooks and ${missing(nats)} stream messages never arrived`);
    await sleep(20);
  }
  const last = (arrivals: Arrivals) => Math.max(...teams.map((team) => arrivals.get(team) ?? 0));
  return { webhookAt: last(webhook), natsAt: last(nats) };
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  return { p50: at(50), p99: at(99), max: sorted.at(-1) ?? Number.NaN, count: sorted.length };
}

export function eventsCostLines(cost: EventsCost): string[] {
  const { on, off } = cost.latency;
  const { lag, written, delivered } = cost;
  const ms = (value: number) => value.toFixed(1);
  return [
    `(l) team create at 1 connection: events on p50 ${on.p50.toFixed(2)} ms (p99 ${on.p99.toFixed(2)}), off p50 ${off.p50.toFixed(2)} ms ` +
      `(p99 ${off.p99.toFixed(2)}): the event adds ${(on.p50 - off.p50).toFixed(2)} ms at p50`,
    `(l) lag from acknowledgement to arrival at ${lag.ratePerSecond} changes/s for ${LAG_SECONDS} s (${lag.changes} changes, ${lag.failed} failed): ` +
      `webhook p50 ${ms(lag.webhook.p50)} ms, p99 ${ms(lag.webhook.p99)} ms, max ${ms(lag.webhook.max)} ms; ` +
      `JetStream p50 ${ms(lag.nats.p50)} ms, p99 ${ms(lag.nats.p99)} ms, max ${ms(lag.nats.max)} ms`,
    `(l) events written through the change path at ${WRITE_CONNECTIONS} connections: ${written.perSecond.toFixed(0)}/s (${written.events} in ${written.seconds.toFixed(1)} s)`,
    `(l) a backlog of ${delivered.events} events (written in ${delivered.loadSeconds.toFixed(1)} s, ${(delivered.events / delivered.loadSeconds).toFixed(0)}/s in batches of ${BACKLOG_BATCH}): ` +
      `webhooks delivered ${(delivered.events / delivered.webhookSeconds).toFixed(0)}/s, JetStream ${(delivered.events / delivered.natsSeconds).toFixed(0)}/s`,
  ];
}
