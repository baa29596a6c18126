// `npm run load:login`: a flood of wrong-password logins from many addresses, and a bystander's
// correct logins measured alone and during it. Starts its own service (embedded SpiceDB, a fresh
// database on the local Postgres, production password cost, TRUST_PROXY so each connection's
// X-Forwarded-For is its client address), talks to 127.0.0.1 only, and stops after a fixed time
// (~30 s). Figures: docs/benchmarks/history.md, "Sign-in under a flood (issue #27)".
//
// The flood: LOAD_FLOOD_ADDRESSES connections, each from its own address; half guess the
// bystander's password (to lock them out), half guess other accounts (to fill the hashing queue).
// The bystander signs in from the address they signed up from, with the device token that gave
// them. A newcomer, measured alongside, signs in correctly from a new address on every request and
// with no device token: what a first sign-in meets during the flood.
//
//   LOAD_FLOOD_ADDRESSES=40 LOAD_SECONDS=20 npm run load:login
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { createDatabase, freePort, REPO_ROOT } from './bench/infra.ts';

const SERVER_URL = process.env.LOAD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FLOOD_ADDRESSES = Number(process.env.LOAD_FLOOD_ADDRESSES ?? 40);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const ALONE_SECONDS = Math.min(SECONDS, 5);
const LOGIN_PATH = '/api/v1/auth/email/login';
const BYSTANDER_ADDRESS = '203.0.113.7';

const log = (message: string) => process.stderr.write(`[load:login] ${message}\n`);

interface Account {
  email: string;
  password: string;
  /** The device token signup answered, where the service issues one. */
  deviceToken: string | undefined;
}

async function main(): Promise<void> {
  const database = await createDatabase(SERVER_URL);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  Object.assign(env, { DATABASE_URL: database.url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', TRUST_PROXY: 'true' });
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    await untilReady(url);
    const bystander = await signUp(url, BYSTANDER_ADDRESS);
    const newcomer = await signUp(url, '203.0.113.8');
    log(`device token issued at signup: ${bystander.deviceToken ? 'yes' : 'no'}`);

    log(`bystander alone, ${ALONE_SECONDS} s`);
    const alone = await bystanderLogins(url, bystander, ALONE_SECONDS);
    log(`${FLOOD_ADDRESSES} addresses of wrong-password logins, ${SECONDS} s, bystander and newcomer alongside`);
    const [flood, during, firstSignIns] = await Promise.all([
      floodLogins(url, bystander.email),
      bystanderLogins(url, bystander, SECONDS),
      newcomerLogins(url, newcomer, SECONDS),
    ]);
    const statuses = (result: autocannon.Result) =>
      Object.entries(result.statusCodeStats ?? {})
        .map(([status, stats]) => `${status}×${stats.count ?? 0}`)
        .join(' ');
    const row = (name: string, result: autocannon.Result) =>
      `| ${name} | ${result.requests.total} | ${statuses(result)}${result.timeouts ? ` timeouts×${result.timeouts}` : ''} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} |`;
    console.log('| Traffic | Requests | Statuses | p50 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|---|');
    console.log(row("bystander's correct logins, alone", alone));
    console.log(row(`flood: wrong passwords from ${FLOOD_ADDRESSES} addresses`, flood));
    console.log(row("bystander's correct logins, during the flood", during));
    console.log(row("newcomer's correct first logins (new address each), during the flood", firstSignIns));
  } finally {
    child.kill('SIGTERM');
    await exited;
    await database.drop();
  }
}

function loginBody(account: Account, options: { deviceToken: boolean }): string {
  const withToken = options.deviceToken && account.deviceToken;
  return JSON.stringify({ email: account.email, password: account.password, ...(withToken && { device_token: account.deviceToken }) });
}

/** One connection of correct logins from the bystander's own address, with their device token. */
function bystanderLogins(url: string, bystander: Account, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}${LOGIN_PATH}`,
    method: 'POST',
    connections: 1,
    duration: seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': BYSTANDER_ADDRESS },
    body: loginBody(bystander, { deviceToken: true }),
  });
}

/** One connection of correct logins, each from an address never seen before and without a device token. */
function newcomerLogins(url: string, newcomer: Account, seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: `${url}${LOGIN_PATH}`,
    connections: 1,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.18.${(next >> 8) & 255}.${next++ & 255}` },
          body: loginBody(newcomer, { deviceToken: false }),
        }),
      },
    ],
  });
}

/** A connection per address; even ones guess the bystander's password, odd ones other accounts'. */
function floodLogins(url: string, bystanderEmail: string): Promise<autocannon.Result> {
  let connection = 0;
  return autocannon({
    url: `${url}${LOGIN_PATH}`,
    method: 'POST',
    connections: FLOOD_ADDRESSES,
    duration: SECONDS,
    timeout: 30,
    setupClient: (client) => {
      const index = connection++;
      const email = index % 2 === 0 ? bystanderEmail : `stuffed-${index}@example.com`;
      client.setHeadersAndBody(
        { 'content-type': 'application/json', 'x-forwarded-for': `10.27.${index >> 8}.${index & 255}` },
        JSON.stringify({ email, password: `guess-${randomBytes(6).toString('hex')}` }),
      );
    },
  });
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

async function signUp(url: string, address: string): Promise<Account> {
  const username = `load_${randomBytes(5).toString('hex')}`;
  const input = { username, email: `${username}@example.com`, password: `Load-${randomBytes(12).toString('hex')}` };
  const response = await fetch(`${url}/api/v1/auth/email/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify(input),
  });
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const session = (await response.json()) as { device_token?: string };
  return { email: input.email, password: input.password, deviceToken: session.device_token };
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
