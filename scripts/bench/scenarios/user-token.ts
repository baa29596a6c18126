// (m) user-token: what a request with a user's access token costs over one with a service key,
// read against the floor of one HTTP hop. One hot pair (the user's view of their own
// organization) on a warm `spicedb serve` (memory datastore), so every check after the first is a
// decision-cache hit and what differs is authentication alone. In the same run, at 1 and 32
// connections: a bare node HTTP server answering from memory (the floor), the service's own
// /healthz, POST /authz/check with a service key and with the user's token, and CheckPermission
// straight to SpiceDB.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import type { Bench } from '../bench.ts';
import { createDatabase, freePort, log, startService, startSpiceDb } from '../infra.ts';
import { meanOfRuns, measureCalls, measureHttp, type HttpScenario, type LoadShape, type Measurement } from '../measure.ts';
import { api } from '../seeding.ts';
import { PASSWORD, POSTGRES_URL, SHAPE } from '../settings.ts';
import { deadline } from './direct-check.ts';
import { readPolicy } from '../../../src/authz/policy-modules.ts';
import { openOrm } from '../../../src/db/orm.ts';
import { ServiceAccountService } from '../../../src/services/service-account.service.ts';

export interface UserTokenRun {
  connections: number;
  floor: Measurement;
  healthz: Measurement;
  serviceKey: Measurement;
  userToken: Measurement;
  direct: Measurement;
}

const CHECK_ROUTE = '/api/v1/authz/check';

export async function userTokenCost(bench: Bench): Promise<UserTokenRun[]> {
  log('measuring (m) a user token against a service key, over the floor of one HTTP hop');
  const spicedbServer = startSpiceDb(POSTGRES_URL, 'memory');
  bench.cleanups.push(() => spicedbServer.stop());
  const client = v1.NewClient(spicedbServer.presharedKey, spicedbServer.endpoint, v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS);
  bench.cleanups.push(() => client.close());
  const database = await createDatabase(POSTGRES_URL);
  bench.cleanups.push(() => database.drop());
  const service = await startService({ databaseUrl: database.url, spicedb: spicedbServer, cpuProfileDir: process.env.BENCH_CPU_PROFILE_DIR });
  bench.cleanups.push(() => service.stop());
  const floor = await startBareServer();
  bench.cleanups.push(() => floor.stop());

  const session = await api<{ access_token: string }>(service.url, '/api/v1/auth/email/signup', {
    body: { username: 'bench_user_token', email: 'bench_user_token@bench.example', password: PASSWORD },
  });
  const claims = decodeJwt(session.access_token);
  const userId = String(claims.sub);
  const organizationId = String(claims.org_id);
  const orm = await openOrm(database.url);
  const key = await ServiceAccountService.forAdministration(orm, readPolicy(undefined))
    .create('bench-user-token', [])
    .then((created) => created.key)
    .finally(() => orm.close());

  const body = JSON.stringify({ resource: { type: 'organization', id: organizationId }, permission: 'view', subject: { type: 'user', id: userId } });
  const check = (token: string): HttpScenario => ({
    baseUrl: service.url,
    method: 'POST',
    path: CHECK_ROUTE,
    headers: { authorization: `Bearer ${token}` },
    body: () => body,
  });
  for (const token of [key, session.access_token]) {
    const answer = await api<{ allowed: boolean }>(service.url, CHECK_ROUTE, { token, body: JSON.parse(body) });
    if (!answer.allowed) throw new Error('(m) the owner is denied the view of their own organization');
  }
  const direct = () =>
    client.promises.checkPermission(
      v1.CheckPermissionRequest.create({
        consistency: v1.Consistency.create({ requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } }),
        resource: v1.ObjectReference.create({ objectType: 'organization', objectId: organizationId }),
        permission: 'view',
        subject: v1.SubjectReference.create({ object: v1.ObjectReference.create({ objectType: 'user', objectId: userId }) }),
      }),
      new Metadata(),
      deadline(),
    );

  const runs: UserTokenRun[] = [];
  for (const connections of [1, 32]) {
    const shape: LoadShape = { ...SHAPE, connections };
    const label = `one hot pair, ${connections} connection${connections === 1 ? '' : 's'}`;
    const record = (name: string, measuring: (name: string) => Promise<Measurement>) => bench.recorder.record(measuring(`(m) ${name}, ${label}`));
    const floorRun = await record('bare node HTTP server (the floor)', (name) => measureHttp(name, { baseUrl: floor.url, method: 'GET', path: '/', headers: {} }, shape));
    const healthz = await record('GET /healthz', (name) => measureHttp(name, { baseUrl: service.url, method: 'GET', path: '/healthz', headers: {} }, shape));
    // A-B-B-A, and the aims take the means: on a shared machine the load drifts within a run.
    const serviceKey = [await record('POST /authz/check, service key (1st)', (name) => measureHttp(name, check(key), shape))];
    const userToken = [await record("POST /authz/check, the user's access token (1st)", (name) => measureHttp(name, check(session.access_token), shape))];
    userToken.push(await record("POST /authz/check, the user's access token (2nd)", (name) => measureHttp(name, check(session.access_token), shape)));
    serviceKey.push(await record('POST /authz/check, service key (2nd)', (name) => measureHttp(name, check(key), shape)));
    runs.push({
      connections,
      floor: floorRun,
      healthz,
      serviceKey: meanOfRuns(`(m) POST /authz/check, service key, ${label}, mean`, serviceKey),
      userToken: meanOfRuns(`(m) POST /authz/check, the user's access token, ${label}, mean`, userToken),
      direct: await record('CheckPermission direct', (name) => measureCalls(name, direct, shape)),
    });
  }
  return runs;
}

/** A node HTTP server in its own process answering a check's answer from memory: one hop and nothing else. */
async function startBareServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const source = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end('{"allowed":true}'); }).listen(${port}, '127.0.0.1', () => console.log('up'));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export function userTokenLines(runs: UserTokenRun[]): string[] {
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  return runs.flatMap((run) => {
    const floorLine =
      `(m) ${run.connections} connection(s), p50: floor ${ms(run.floor.p50)}, /healthz ${ms(run.healthz.p50)}, ` +
      `service key ${ms(run.serviceKey.p50)} (${ms(run.serviceKey.p50 - run.floor.p50)} over the floor), ` +
      `user token ${ms(run.userToken.p50)} (${ms(run.userToken.p50 - run.floor.p50)} over the floor), direct SpiceDB ${ms(run.direct.p50)}`;
    if (run.connections === 1) {
      const gap = run.userToken.p50 - run.serviceKey.p50;
      return [floorLine, `(m) user token p50 within 0.15 ms of the service key's at 1 connection: ${ms(gap)} (${gap <= 0.15 ? 'met' : 'MISSED'})`];
    }
    const share = run.userToken.rps / run.serviceKey.rps;
    return [
      floorLine,
      `(m) user token throughput within 10% of the service key's at ${run.connections} connections: ${(share * 100).toFixed(0)}% ` +
        `(${run.userToken.rps.toFixed(0)}/s against ${run.serviceKey.rps.toFixed(0)}/s; floor ${run.floor.rps.toFixed(0)}/s) (${share >= 0.9 ? 'met' : 'MISSED'})`,
    ];
  });
}
