// `npm test`: finds a Postgres for the suite (TEST_DATABASE_URL, default the local server), or
// starts an embedded one when none answers, then runs ava. Each test file makes its own database.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from '../src/config.ts';
import { removeEmbeddedPostgresData, startEmbeddedPostgres } from '../src/db/embedded-postgres.ts';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

let url = process.env.TEST_DATABASE_URL ?? DEFAULT_URL;
let cleanup = async () => {};
if (!(await answers(url))) {
  const directory = mkdtempSync(path.join(tmpdir(), 'tenant-authz-test-pg-'));
  const port = 55000 + Math.floor(Math.random() * 5000);
  console.log(`No Postgres answered at ${url}; starting an embedded one on port ${port}`);
  const server = await startEmbeddedPostgres(directory, port).catch((error: unknown) => {
    removeEmbeddedPostgresData(directory);
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78); // EX_CONFIG, as `npm start` does
  });
  url = server.url;
  cleanup = async () => {
    await server.stop();
    removeEmbeddedPostgresData(directory);
  };
}

// Connections the suite holds at most, so that it stays green beside another run on one Postgres
// (max_connections 100 by default): each test service pools at most 6 (test/support/test-service.ts)
// besides its 2 listening connections and 1 lock, and at most 4 files run at once (ava's default is
// one per core, unbounded on a big machine). Pools start empty and close idle connections, so a
// run holds far fewer than its bound; test/faults/postgres-connections.test.ts covers the rest:
// past max_connections a request answers 503 with Retry-After.
const args = process.argv.slice(2);
if (!args.some((arg) => arg.startsWith('--concurrency') || arg === '-c')) {
  args.unshift(`--concurrency=${Math.min(availableParallelism(), 4)}`);
}

// ava's own bin entry, so a release that moves its CLI file does not break `npm test`.
const avaPackage = JSON.parse(readFileSync('node_modules/ava/package.json', 'utf8')) as { bin: { ava: string } };
const ava = spawn(process.execPath, [path.resolve('node_modules/ava', avaPackage.bin.ava), ...args], {
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: url },
});
const code = await new Promise<number | null>((resolve) => ava.on('exit', (exitCode) => resolve(exitCode)));
await cleanup();
process.exit(code ?? 1);
