// (q) custom roles: what a check through a custom role costs next to one through a built-in role
// (issue 34 aims at within 20%). Organizations of its own, on the run's service: in each, an admin
// (org:billing through `admin`) and a member holding a "Billing manager" custom role (org:billing
// through organization->role->billing & view). The same check, organization#billing, for one or
// the other, through POST /authz/check at one connection, A-B-B-A, and the mean of each: with
// fully_consistent (neither the decision cache nor a quantized revision answers it), and at the
// default freshness on a second instance with its decision cache off (DECISION_CACHE_ENTRIES=0),
// where SpiceDB's own dispatch cache may answer what several holders share.
import { decodeJwt } from 'jose';
import type { Bench } from '../bench.ts';
import { log, startService } from '../infra.ts';
import { meanOfRuns, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { api } from '../seeding.ts';
import { PASSWORD, SHAPE } from '../settings.ts';
import { serviceRequest } from '../bench.ts';
import { CHECK_ROUTE } from './service-check.ts';

// Three signups each: the service allows 20 signups per address (SIGNUP_MAX_PER_ADDRESS).
const ORGANIZATIONS = 6;

export interface Comparison {
  builtIn: Measurement;
  custom: Measurement;
}

export interface CustomRoleCost {
  fullyConsistent: Comparison;
  defaultFreshness: Comparison;
}

interface Account {
  userId: string;
  organizationId: string;
  token: string;
}

export async function customRoleCost(bench: Bench): Promise<CustomRoleCost> {
  log(`measuring (q) a check through a custom role vs a built-in role (${ORGANIZATIONS} organizations of its own)`);
  const run = Date.now().toString(36);
  const bodies = { fully: { builtIn: [] as string[], custom: [] as string[] }, default: { builtIn: [] as string[], custom: [] as string[] } };
  for (let index = 0; index < ORGANIZATIONS; index++) {
    // One at a time: signups share the password hasher's small queue.
    const owner = await signUp(bench.service.url, `${run}_${index}_owner`);
    const admin = await signUp(bench.service.url, `${run}_${index}_admin`);
    const holder = await signUp(bench.service.url, `${run}_${index}_holder`);
    const members = `/api/v1/orgs/${owner.organizationId}/members`;
    // The bench's key is a trusted account's: it adds members at once.
    await api(bench.service.url, members, { token: bench.serviceKey, body: { user_id: admin.userId, role: 'admin' } });
    await api(bench.service.url, members, { token: bench.serviceKey, body: { user_id: holder.userId, role: 'member' } });
    const role = await api<{ id: string }>(bench.service.url, `/api/v1/orgs/${owner.organizationId}/roles`, {
      token: owner.token,
      body: { name: 'Billing manager', permissions: ['org:billing', 'org:audit_log'] },
    });
    await api(bench.service.url, `${members}/${holder.userId}/roles/${role.id}`, { method: 'PUT', token: owner.token });
    const check = (userId: string, consistency: object) =>
      JSON.stringify({ resource: { type: 'organization', id: owner.organizationId }, permission: 'billing', subject: { type: 'user', id: userId }, ...consistency });
    for (const [variant, consistency] of [['fully', { consistency: 'fully_consistent' }], ['default', {}]] as const) {
      bodies[variant].builtIn.push(check(admin.userId, consistency));
      bodies[variant].custom.push(check(holder.userId, consistency));
    }
  }
  await expectAllowed(bench, [...bodies.fully.builtIn, ...bodies.fully.custom]);
  const uncached = await startService({
    databaseUrl: bench.database.url,
    spicedb: bench.spicedbServer,
    environment: { DECISION_CACHE_ENTRIES: '0' },
  });
  bench.cleanups.push(() => uncached.stop());
  const fullyConsistent = await compare(bench, bench.service.url, 'fully_consistent', bodies.fully);
  const defaultFreshness = await compare(bench, uncached.url, 'default freshness, no decision cache', bodies.default);
  return { fullyConsistent, defaultFreshness };
}

/** Built-in, custom, custom, built-in: the mean of each. */
async function compare(bench: Bench, baseUrl: string, label: string, bodies: { builtIn: string[]; custom: string[] }): Promise<Comparison> {
  const one: LoadShape = { ...SHAPE, connections: 1 };
  const measure = (role: 'built-in' | 'custom', order: number) => {
    const name = `(q) POST /authz/check ${label}, org:billing through a ${role} role, 1 connection, run ${order}`;
    const scenario = { ...serviceRequest(bench, CHECK_ROUTE, role === 'custom' ? bodies.custom : bodies.builtIn), baseUrl };
    return bench.recorder.record(measureHttp(name, scenario, one, bench.recorder.cpuProbe(name)));
  };
  const builtIn = [await measure('built-in', 1)];
  const custom = [await measure('custom', 1), await measure('custom', 2)];
  builtIn.push(await measure('built-in', 2));
  return { builtIn: meanOfRuns(`(q) ${label}, built-in role, mean of runs`, builtIn), custom: meanOfRuns(`(q) ${label}, custom role, mean of runs`, custom) };
}

export function customRoleLines({ fullyConsistent, defaultFreshness }: CustomRoleCost): string[] {
  return [
    lineOf('fully_consistent', fullyConsistent),
    lineOf('default freshness, no decision cache', defaultFreshness),
  ];
}

function lineOf(label: string, { builtIn, custom }: Comparison): string {
  const p50 = custom.p50 / builtIn.p50;
  const mean = custom.mean / builtIn.mean;
  return (
    `(q) a check through a custom role vs a built-in role, 1 connection, ${label}: p50 ${custom.p50.toFixed(2)} vs ` +
    `${builtIn.p50.toFixed(2)} ms (${p50.toFixed(2)}x), mean ${custom.mean.toFixed(2)} vs ${builtIn.mean.toFixed(2)} ms (${mean.toFixed(2)}x); ` +
    `aim within 20%: ${mean <= 1.2 ? 'met' : 'MISSED'}`
  );
}

async function signUp(serviceUrl: string, suffix: string): Promise<Account> {
  const name = `bench_roles_${suffix}`;
  const session = await api<{ access_token: string }>(serviceUrl, '/api/v1/auth/email/signup', {
    body: { username: name, email: `${name}@bench.example`, password: PASSWORD },
  });
  const claims = decodeJwt(session.access_token);
  return { userId: String(claims.sub), organizationId: String(claims.org_id), token: session.access_token };
}

/** Every check of the scenario is an allow, or it measures something else. */
async function expectAllowed(bench: Bench, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    const answer = await api<{ allowed: boolean }>(bench.service.url, CHECK_ROUTE, { token: bench.serviceKey, body: JSON.parse(body) });
    if (!answer.allowed) throw new Error(`(q) expected an allow: ${body}`);
  }
}
