// `npm run load:login`: a flood of correct logins for one account from one address, and another
// user's GET /orgs/{id} measured alone and during the flood. Starts its own service (embedded
// SpiceDB, a fresh database on the local Postgres, production password cost), talks to 127.0.0.1
// only, and stops after a fixed time (~45 s). Figures: BENCHMARKS.md, "Login flood (issue #15)".
//
//   LOAD_FLOOD_CONNECTIONS=40 LOAD_SECONDS=20 npm run load:login
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { createDatabase, freePort, REPO_ROOT } from './bench/infra.ts';

const SERVER_URL = process.env.LOAD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FLOOD_CONNECTIONS = Number(process.env.LOAD_FLOOD_CONNECTIONS ?? 40);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);

const log = (message: string) => process.stderr.write(`[load:login] ${message}\n`);

async function main(): Promise<void> {
  const database = await createDatabase(SERVER_URL);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  Object.assign(env, { DATABASE_URL: database.url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' });
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    await untilReady(url);
    const flooder = await signUp(url);
    const bystander = await signUp(url);
    const orgPath = `/api/v1/orgs/${bystander.orgId}`;
    const bystanderRequest = (duration: number) =>
      autocannon({
        url: `${url}${orgPath}`,
        connections: 1,
        duration,
        timeout: 30,
        headers: { authorization: `Bearer ${bystander.accessToken}` },
      });

    log(`bystander alone, ${Math.min(SECONDS, 5)} s`);
    const alone = await bystanderRequest(Math.min(SECONDS, 5));
    log(`${FLOOD_CONNECTIONS} connections of correct logins for one account, one address, ${SECONDS} s, bystander alongside`);
    const [flood, during] = await Promise.all([
      autocannon({
        url: `${url}/api/v1/auth/email/login`,
        method: 'POST',
        connections: FLOOD_CONNECTIONS,
        duration: SECONDS,
        timeout: 30,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: flooder.email, password: flooder.password }),
      }),
      bystanderRequest(SECONDS),
    ]);
    const statuses = (result: autocannon.Result) =>
      Object.entries(result.statusCodeStats ?? {})
        .map(([status, stats]) => `${status}×${stats.count ?? 0}`)
        .join(' ');
    const row = (name: string, result: autocannon.Result) =>
      `| ${name} | ${result.requests.total} | ${statuses(result)}${result.timeouts ? ` timeouts×${result.timeouts}` : ''} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} |`;
    console.log('| Traffic | Requests | Statuses | p50 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|---|');
    console.log(row('bystander GET /orgs/{id}, alone', alone));
    console.log(row(`logins (${FLOOD_CONNECTIONS} connections)`, flood));
    console.log(row('bystander GET /orgs/{id}, during the flood', during));
  } finally {
    child.kill('SIGTERM');
    await exited;
    await database.drop();
  }
}

async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the service did not become ready');
}

async function signUp(url: string): Promise<{ email: string; password: string; accessToken: string; orgId: string }> {
  const username = `load_${randomBytes(5).toString('hex')}`;
  const input = { username, email: `${username}@example.com`, password: `Load-${randomBytes(12).toString('hex')}` };
  const response = await fetch(`${url}/api/v1/auth/email/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const session = (await response.json()) as { access_token: string };
  const claims = JSON.parse(Buffer.from(session.access_token.split('.')[1] ?? '', 'base64url').toString()) as { org_id: string };
  return { ...input, accessToken: session.access_token, orgId: claims.org_id };
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
