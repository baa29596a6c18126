// (k) audit-cost: what the audit write adds to an access change, and what an export of a long
// chain costs. Member adds by a trusted service account (a user's add only proposes a membership,
// which changes no access until accepted), one at a time (latency, not lock contention), on the service and on a
// second instance of the same code on the same database and SpiceDB whose unit of work appends no
// audit event (service-without-audit.ts), in A-B-B-A rounds on one organization. Then 100,000
// events exported as NDJSON through the service, timed to the last byte, with its RSS sampled.
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { appendAuditEvents, type AuditEntry } from '../../../src/audit/audit-log.ts';
import { openOrm } from '../../../src/db/orm.ts';
import { ServiceAccountService } from '../../../src/services/service-account.service.ts';
import { readPolicy } from '../../../src/authz/policy-modules.ts';
import type { Bench } from '../bench.ts';
import { log, startService, withClient, type ServiceProcess } from '../infra.ts';
import { summarize, type Measurement } from '../measure.ts';
import { api } from '../seeding.ts';
import { PASSWORD } from '../settings.ts';

const WARMUP_ADDS = 20;
const ADDS_PER_ROUND = 200;
const EXPORT_EVENTS = 100_000;
const LOAD_BATCH = 5_000;
const RSS_SAMPLE_MS = 20;

export interface AuditCost {
  withAudit: Measurement;
  withoutAudit: Measurement;
  export: { events: number; bytes: number; seconds: number; loadSeconds: number; rssBeforeMiB: number; rssPeakMiB: number; hwmBeforeMiB: number; hwmAfterMiB: number };
}

export async function auditCost(bench: Bench): Promise<AuditCost> {
  log(`measuring (k) member adds with and without the audit write, then an export of ${EXPORT_EVENTS} events`);
  const baseline = await startService({
    databaseUrl: bench.database.url,
    spicedb: bench.spicedbServer,
    entry: 'scripts/bench/service-without-audit.ts',
  });
  bench.cleanups.push(() => baseline.stop());
  const owner = await organizationOwner(bench.service.url, bench.database.url);
  const adder = await trustedKey(bench.database.url);
  const newcomers = await usersOutside(bench.database.url, owner.userId, 2 * WARMUP_ADDS + 4 * ADDS_PER_ROUND);
  const take = (count: number) => newcomers.splice(0, count);
  await addMembers(bench.service, owner, adder, take(WARMUP_ADDS));
  await addMembers(baseline, owner, adder, take(WARMUP_ADDS));
  const rounds = { with: [] as Added[], without: [] as Added[] };
  for (const variant of ['with', 'without', 'without', 'with'] as const) {
    rounds[variant].push(await addMembers(variant === 'with' ? bench.service : baseline, owner, adder, take(ADDS_PER_ROUND)));
  }
  await baseline.stop();
  const measured = (name: string, added: Added[]) =>
    bench.recorder.record(
      Promise.resolve(
        summarize(
          name,
          1,
          added.flatMap((round) => round.latencies),
          merge(added.map((round) => round.failures)),
          added.reduce((sum, round) => sum + round.seconds, 0),
        ),
      ),
    );
  const withAudit = await measured('(k) member add, with the audit write', rounds.with);
  const withoutAudit = await measured('(k) member add, without it (baseline instance)', rounds.without);
  return { withAudit, withoutAudit, export: await exportCost(bench, owner) };
}

interface Owner {
  userId: string;
  organizationId: string;
  token: string;
}

/** A new organization on the enterprise plan (no member limit), through the API. */
async function organizationOwner(serviceUrl: string, databaseUrl: string): Promise<Owner> {
  const name = `bench_audit_${Date.now().toString(36)}`;
  const session = await api<{ access_token: string }>(serviceUrl, '/api/v1/auth/email/signup', {
    body: { username: name, email: `${name}@bench.example`, password: PASSWORD },
  });
  const claims = decodeJwt(session.access_token);
  const owner = { userId: String(claims.sub), organizationId: String(claims.org_id), token: session.access_token };
  // No member limit: what `npm run cli -- org set-tier` does, straight in the database as the
  // bench seeds its graph (scripts/bench/graph.ts), since the tier is not the owner's to set.
  await withClient(databaseUrl, (client) =>
    client.query("update organizations set subscription_tier = 'enterprise' where id = $1", [owner.organizationId]),
  );
  return owner;
}

/** A trusted service account's key: it adds members at once, without asking them. */
async function trustedKey(databaseUrl: string): Promise<string> {
  const orm = await openOrm(databaseUrl);
  try {
    const { key } = await ServiceAccountService.forAdministration(orm, readPolicy(undefined)).create(`bench_audit_${Date.now().toString(36)}`, [], { trusted: true });
    return key;
  } finally {
    await orm.close();
  }
}

async function usersOutside(databaseUrl: string, ownerId: string, count: number): Promise<string[]> {
  const rows = await withClient(databaseUrl, (client) =>
    client.query<{ id: string }>('select id from users where id <> $1 order by id limit $2', [ownerId, count]),
  );
  if (rows.rows.length < count) throw new Error(`(k) needs ${count} users besides the owner; the seeded graph has ${rows.rows.length}`);
  return rows.rows.map((row) => row.id);
}

interface Added {
  latencies: number[];
  failures: Record<string, number>;
  seconds: number;
}

async function addMembers(service: ServiceProcess, owner: Owner, key: string, userIds: string[]): Promise<Added> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  for (const userId of userIds) {
    const sent = performance.now();
    const response = await fetch(`${service.url}/api/v1/orgs/${owner.organizationId}/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: userId, role: 'member' }),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined);
    await response?.arrayBuffer();
    if (response?.ok) latencies.push(performance.now() - sent);
    else failures[String(response?.status ?? 'error')] = (failures[String(response?.status ?? 'error')] ?? 0) + 1;
  }
  return { latencies, failures, seconds: (performance.now() - started) / 1000 };
}

function merge(all: Array<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const failures of all) for (const [kind, count] of Object.entries(failures)) merged[kind] = (merged[kind] ?? 0) + count;
  return merged;
}

/**
 * EXPORT_EVENTS more events in the owner's chain (through the audit log's own append, a batch per
 * transaction under the organization's row lock), then one export read to its last byte while the
 * service's resident set size is sampled.
 */
async function exportCost(bench: Bench, owner: Owner): Promise<AuditCost['export']> {
  const loadStarted = performance.now();
  const orm = await openOrm(bench.database.url);
  try {
    for (let done = 0; done < EXPORT_EVENTS; done += LOAD_BATCH) {
      const entries: AuditEntry[] = Array.from({ length: LOAD_BATCH }, (_, index) => ({
        actor: { type: 'system', id: 'bench-load' },
        action: 'bench.load',
        target: { type: 'organization', id: owner.organizationId },
        changes: { n: [null, done + index] },
      }));
      await orm.em.fork().transactional(async (em) => {
        await em.execute('select id from organizations where id = ? for update', [owner.organizationId]);
        await appendAuditEvents(em, owner.organizationId, entries);
      });
    }
  } finally {
    await orm.close();
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const pid = bench.service.pid;
  if (pid === undefined) throw new Error('(k) needs the service process id to sample its memory');
  const rssBefore = memoryKiB(pid, 'VmRSS');
  const hwmBefore = memoryKiB(pid, 'VmHWM');
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, memoryKiB(pid, 'VmRSS'));
  }, RSS_SAMPLE_MS);
  const started = performance.now();
  let events = 0;
  let bytes = 0;
  try {
    const response = await fetch(`${bench.service.url}/api/v1/orgs/${owner.organizationId}/audit-events/export`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    if (!response.ok || !response.body) throw new Error(`(k) export answered ${response.status}`);
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 0x0a) events += 1;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  rssPeak = Math.max(rssPeak, memoryKiB(pid, 'VmRSS'));
  if (events < EXPORT_EVENTS) throw new Error(`(k) the export held ${events} events, fewer than the ${EXPORT_EVENTS} loaded`);
  const mib = (kib: number) => kib / 1024;
  return {
    events,
    bytes,
    seconds,
    loadSeconds,
    rssBeforeMiB: mib(rssBefore),
    rssPeakMiB: mib(rssPeak),
    hwmBeforeMiB: mib(hwmBefore),
    hwmAfterMiB: mib(memoryKiB(pid, 'VmHWM')),
  };
}

/** VmRSS (resident now) or VmHWM (the resident peak so far) of a process, from /proc, in KiB. */
function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
}

export function auditCostLines(cost: AuditCost): string[] {
  const { withAudit, withoutAudit } = cost;
  const added = withAudit.p50 - withoutAudit.p50;
  const exported = cost.export;
  return [
    `(k) member add at 1 connection: with the audit write p50 ${withAudit.p50.toFixed(2)} ms (p99 ${withAudit.p99.toFixed(2)}), ` +
      `without it p50 ${withoutAudit.p50.toFixed(2)} ms (p99 ${withoutAudit.p99.toFixed(2)}): the audit write adds ` +
      `${added.toFixed(2)} ms at p50 (${((added / withoutAudit.p50) * 100).toFixed(0)}%)`,
    `(k) export of ${exported.events} events (${(exported.bytes / 2 ** 20).toFixed(0)} MiB of NDJSON): ${exported.seconds.toFixed(2)} s ` +
      `(${(exported.events / exported.seconds).toFixed(0)} events/s); service RSS ${exported.rssBeforeMiB.toFixed(0)} MiB before, ` +
      `peak ${exported.rssPeakMiB.toFixed(0)} MiB during (sampled every ${RSS_SAMPLE_MS} ms); lifetime peak (VmHWM) ` +
      `${exported.hwmBeforeMiB.toFixed(0)} -> ${exported.hwmAfterMiB.toFixed(0)} MiB; loading the events took ${exported.loadSeconds.toFixed(1)} s`,
  ];
}
