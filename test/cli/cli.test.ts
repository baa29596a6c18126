import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { embeddedPostgresAnswers, removeEmbeddedPostgresData, startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { freePort } from '../support/processes.ts';

const run = promisify(execFile);

test('`npm run cli -- --help` prints the commands and exits 0', async (t) => {
  const { stdout } = await run('npm', ['run', '-s', 'cli', '--', '--help'], { env: process.env });
  t.regex(stdout, /^usage: npm run cli -- --help$/m);
  t.regex(stdout, /service-account create NAME/);
});

test('beside a running embedded PostgreSQL on another port than its own, the CLI uses that database instead of starting a second one', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenant-authz-cli-'));
  t.teardown(() => removeEmbeddedPostgresData(dataDir));
  const [servicePostgresPort, cliPostgresPort] = [await freePort(), await freePort()];
  // As `EMBEDDED_POSTGRES_PORT=<port> npm start` leaves it while it runs.
  const running = await startEmbeddedPostgres(dataDir, servicePostgresPort);
  t.teardown(() => running.stop());

  // The CLI's own EMBEDDED_POSTGRES_PORT names nothing: the data directory says where the server is.
  const { stdout, stderr } = await run(process.execPath, ['src/cli/main.ts', 'service-account', 'create', 'beside', '--write', 'chatbot'], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(cliPostgresPort), SPICEDB_ENDPOINT: '' },
  });
  t.is(stderr.split('\n')[0], `Database: postgres://postgres:***@127.0.0.1:${servicePostgresPort}/tenant_authz (embedded, already running)`);
  t.regex(stdout.trim(), /^\S{20,}$/, 'the key, alone on stdout');
  t.is(await embeddedPostgresAnswers(cliPostgresPort), undefined, 'no second PostgreSQL was started');
});
