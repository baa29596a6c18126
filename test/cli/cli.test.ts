import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { embeddedPostgresAnswers, removeEmbeddedPostgresData } from '../../src/db/embedded-postgres.ts';
import { freePort, startMain, waitUntilReady } from '../support/processes.ts';

const run = promisify(execFile);

test('`npm run cli -- --help` prints the commands and exits 0', async (t) => {
  const { stdout } = await run('npm', ['run', '-s', 'cli', '--', '--help'], { env: process.env });
  t.regex(stdout, /^usage: npm run cli -- --help$/m);
  t.regex(stdout, /service-account create NAME/);
});

test('beside `npm start` whose embedded PostgreSQL runs on another port, the CLI uses that database instead of starting a second one', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenant-authz-cli-'));
  t.teardown(() => removeEmbeddedPostgresData(dataDir));
  const [servicePort, servicePostgresPort, cliPostgresPort] = [await freePort(), await freePort(), await freePort()];
  const main = startMain({ PORT: String(servicePort), DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(servicePostgresPort), SPICEDB_ENDPOINT: '' });
  t.teardown(async () => {
    main.child.kill('SIGTERM');
    await main.exited;
  });
  await waitUntilReady(`http://127.0.0.1:${servicePort}/readyz`, main.exited);

  // The CLI's own EMBEDDED_POSTGRES_PORT names nothing: the data directory says where the server is.
  const { stdout, stderr } = await run(process.execPath, ['src/cli/main.ts', 'service-account', 'create', 'beside', '--write', 'chatbot'], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(cliPostgresPort), SPICEDB_ENDPOINT: '' },
  });
  t.is(stderr.split('\n')[0], `Database: postgres://postgres:***@127.0.0.1:${servicePostgresPort}/tenant_authz (embedded, already running)`);
  t.regex(stdout.trim(), /^\S{20,}$/, 'the key, alone on stdout');
  t.is(await embeddedPostgresAnswers(cliPostgresPort), undefined, 'no second PostgreSQL was started');
});
