// (m) custom roles: what a check through a custom role costs next to one through a built-in role
// (issue 34 aims at within 20%). Organizations of its own, on the run's service: in each, an admin
// (org:billing through `admin`) and a member holding a "Billing manager" custom role (org:billing
// through organization->role->billing & view). The same check, organization#billing, for one or
// the other, through POST /authz/check with fully_consistent (so neither the decision cache nor a
// quantized revision answers it), at one connection, A-B-B-A, and the mean of each.
import { decodeJwt } from 'jose';
import type { Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { meanOfRuns, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { api } from '../seeding.ts';
import { PASSWORD, SHAPE } from '../settings.ts';
import { serviceRequest } from '../bench.ts';
import { CHECK_ROUTE } from './service-check.ts';

// Three signups each: the service allows 20 signups per address (SIGNUP_MAX_PER_ADDRESS).
const ORGANIZATIONS = 6;

export interface CustomRoleCost {
  builtIn: Measurement;
  custom: Measurement;
}

interface Account {
  userId: string;
  organizationId: string;
  token: string;
}

export async function customRoleCost(bench: Bench): Promise<CustomRoleCost> {
  log(`measuring (m) a check through a custom role vs a built-in role (${ORGANIZATIONS} organizations of its own)`);
  const run = Date.now().toString(36);
  const builtInBodies: string[] = [];
  const customBodies: string[] = [];
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
    const check = (userId: string) =>
      JSON.stringify({
        resource: { type: 'organization', id: owner.organizationId },
        permission: 'billing',
        subject: { type: 'user', id: userId },
        consistency: 'fully_consistent',
      });
    builtInBodies.push(check(admin.userId));
    customBodies.push(check(holder.userId));
  }
  await expectAllowed(bench, [...builtInBodies, ...customBodies]);
  const one: LoadShape = { ...SHAPE, connections: 1 };
  const measure = (label: 'built-in' | 'custom', bodies: string[], order: number) => {
    const name = `(m) POST /authz/check fully_consistent, org:billing through a ${label} role, 1 connection, run ${order}`;
    return bench.recorder.record(measureHttp(name, serviceRequest(bench, CHECK_ROUTE, bodies), one, bench.recorder.cpuProbe(name)));
  };
  const builtIn = [await measure('built-in', builtInBodies, 1)];
  const custom = [await measure('custom', customBodies, 1), await measure('custom', customBodies, 2)];
  builtIn.push(await measure('built-in', builtInBodies, 2));
  return {
    builtIn: meanOfRuns('(m) built-in role, mean of runs', builtIn),
    custom: meanOfRuns('(m) custom role, mean of runs', custom),
  };
}

export function customRoleLines({ builtIn, custom }: CustomRoleCost): string[] {
  const p50 = custom.p50 / builtIn.p50;
  const mean = custom.mean / builtIn.mean;
  return [
    `(m) a check through a custom role vs a built-in role, 1 connection, fully_consistent: p50 ${custom.p50.toFixed(2)} vs ` +
      `${builtIn.p50.toFixed(2)} ms (${p50.toFixed(2)}x), mean ${custom.mean.toFixed(2)} vs ${builtIn.mean.toFixed(2)} ms (${mean.toFixed(2)}x); ` +
      `aim within 20%: ${mean <= 1.2 ? 'met' : 'MISSED'}`,
  ];
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
    if (!answer.allowed) throw new Error(`(m) expected an allow: ${body}`);
  }
}
