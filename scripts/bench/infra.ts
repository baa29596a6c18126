import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * What the benchmark starts, and how each thing is stopped: a `spicedb serve` (through the repo's
 * scripts/spicedb-serve.sh), a fresh database for the service, and the service itself as a child
 * process. Every stop is idempotent, so the cleanup path may run after a partial start.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
export { log };

export function ensureTools(): void {
  const result = spawnSync('bash', ['scripts/tools.sh', 'spicedb'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`scripts/tools.sh spicedb failed (exit ${result.status ?? result.signal})`);
}

export function toolVersion(tool: string): string {
  const bin = join(process.env.TENANT_AUTHZ_TOOLS ?? join(process.env.HOME ?? '', '.cache/tenant-authz/bin'), tool);
  const result = spawnSync(bin, ['version'], { encoding: 'utf8' });
  return (result.stdout || result.stderr || '').trim().split('\n')[0] ?? 'unknown';
}

export interface SpiceDbServer {
  env: Record<string, string>;
  endpoint: string;
  presharedKey: string;
  stop(): void;
}

/**
 * `eval "$(bash scripts/spicedb-serve.sh)"`, parsed: the script prints one `export A=1 B=2` line.
 * On Postgres (the datastore production runs) unless `engine` is `memory`.
 */
export function startSpiceDb(postgresUrl: string, engine: 'postgres' | 'memory' = 'postgres'): SpiceDbServer {
  const result = spawnSync('bash', ['scripts/spicedb-serve.sh'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPICEDB_POSTGRES_URL: postgresUrl, SPICEDB_DATASTORE_ENGINE: engine },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith('export '));
  const env = Object.fromEntries(
    (line ?? '')
      .slice('export '.length)
      .trim()
      .split(/\s+/)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const)
      .filter(([name]) => name.length > 0),
  );
  const stop = () => {
    if (!env.SPICEDB_PID && !env.SPICEDB_DATASTORE_URL) return;
    spawnSync('bash', ['scripts/spicedb-serve.sh', 'stop'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 30_000,
    });
    delete env.SPICEDB_PID;
    delete env.SPICEDB_DATASTORE_URL;
  };
  if (result.status !== 0 || !env.SPICEDB_ENDPOINT || !env.SPICEDB_PRESHARED_KEY || !env.SPICEDB_PID) {
    stop();
    throw new Error(`scripts/spicedb-serve.sh failed (exit ${result.status ?? result.signal})`);
  }
  return { env, endpoint: env.SPICEDB_ENDPOINT, presharedKey: env.SPICEDB_PRESHARED_KEY, stop };
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `tenant_authz_bench_${Date.now()}_${process.pid}`;
  await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      await withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
      dropped = true;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServiceProcess {
  url: string;
  pid: number | undefined;
  logPath: string;
  stop(): Promise<void>;
}

/** `node src/main.ts`, answered GET /readyz = 200 within the boot timeout. */
export async function startService(options: {
  databaseUrl: string;
  spicedb: SpiceDbServer;
  cpuProfileDir?: string | undefined;
  bootTimeoutMs?: number;
  /** Configuration beyond the defaults, e.g. DECISION_CACHE_ENTRIES. */
  environment?: Record<string, string>;
  /** The script to run instead of src/main.ts (scenario (i)'s no-audit baseline). */
  entry?: string;
}): Promise<ServiceProcess> {
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'tenant-authz-bench-'));
  const logPath = join(logDir, 'service.log');
  const logFd = openSync(logPath, 'a');
  const nodeArgs: string[] = [];
  if (options.cpuProfileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only what the service is told below: nothing inherited may change its configuration.
  for (const name of Object.keys(env)) {
    if (/^(SPICEDB_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$|JWT_|PASSWORD_HASH_COST$|SERVICE_ACCOUNT_CACHE_SECONDS$|LOGIN_|DECISION_CACHE_)/.test(name)) {
      delete env[name];
    }
  }
  Object.assign(env, {
    DATABASE_URL: options.databaseUrl,
    SPICEDB_ENDPOINT: options.spicedb.endpoint,
    SPICEDB_PRESHARED_KEY: options.spicedb.presharedKey,
    SPICEDB_INSECURE: 'true',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...options.environment,
  });
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, options.entry ?? 'src/main.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exited: number | string | null = null;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = (code as number | null) ?? (signal as string);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(killer);
  };
  const deadline = Date.now() + (options.bootTimeoutMs ?? 90_000);
  for (;;) {
    if (exited !== null) {
      throw new Error(`the service exited during boot (${exited}); its log:\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
    }
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return { url, pid: child.pid, logPath, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the service did not become ready; its log:\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
