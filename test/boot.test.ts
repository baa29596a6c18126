import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { removeEmbeddedPostgresData } from '../src/db/embedded-postgres.ts';
import { Organization, OrganizationMembership, User, Workspace, WorkspaceMembership } from '../src/db/entities/index.ts';
import { createTestDatabase } from './support/database.ts';
import { freePort, startMain, waitUntilReady } from './support/processes.ts';
import { startTestService } from './support/test-service.ts';

const EMBEDDED_SPICEDB = { SPICEDB_ENDPOINT: '' };

test('a bad configuration value stops the process at boot with one line naming the variable', async (t) => {
  const main = startMain({ PORT: 'eighty' });
  t.is(await main.exited, 78);
  const lines = main.stderr().trim().split('\n');
  t.is(lines.length, 1);
  t.regex(lines[0] ?? '', /^Invalid configuration: PORT /);
});

test('with no environment the service boots on embedded Postgres and SpiceDB, and SIGTERM stops it cleanly', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenant-authz-boot-'));
  t.teardown(() => removeEmbeddedPostgresData(dataDir));
  const port = await freePort();
  // Only the port and data folder differ from a bare `npm start`, so parallel runs do not collide.
  const main = startMain({ PORT: String(port), DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()) });
  t.teardown(() => main.child.kill('SIGKILL'));

  const ready = await waitUntilReady(`http://127.0.0.1:${port}/readyz`, main.exited);
  t.is(ready.status, 200);
  // The boot log names the real bind address, a clickable docs URL, and the embedded database
  // with its password masked.
  t.regex(main.stdout(), new RegExp(`listening on 0\\.0\\.0\\.0:${port}; API docs at http://localhost:${port}/docs`));
  t.regex(main.stdout(), /embedded PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/tenant_authz/);
  t.notRegex(main.stdout(), /postgres:postgres@/);

  main.child.kill('SIGTERM');
  t.is(await main.exited, 0);
  await t.throwsAsync(fetch(`http://127.0.0.1:${port}/healthz`));
});

test('boot replays the tuples recorded in Postgres into a fresh embedded SpiceDB', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());

  const first = await startTestService({ database, environment: EMBEDDED_SPICEDB });
  const em = first.orm.em.fork();
  const owner = new User('olivia', 'olivia@example.com', 'not-a-real-hash');
  const viewer = new User('vera', 'vera@example.com', 'not-a-real-hash');
  const organization = new Organization('Acme', 'billing@example.com');
  const workspace = new Workspace(organization, 'Support');
  em.persist([
    owner,
    viewer,
    organization,
    workspace,
    new OrganizationMembership(organization, owner, 'owner'),
    new OrganizationMembership(organization, viewer, 'member'),
    new WorkspaceMembership(workspace, viewer, 'viewer'),
  ]);
  await em.flush();
  await first.stop();

  const second = await startTestService({ database, environment: EMBEDDED_SPICEDB });
  t.teardown(() => second.stop());
  const can = async (resource: { type: string; id: string }, permission: string, user: User) =>
    (await second.spicedb.checkPermission({ resource, permission, subject: { type: 'user', id: user.id } }, { kind: 'fully_consistent' }))
      .allowed;

  const org = { type: 'organization', id: organization.id };
  const space = { type: 'workspace', id: workspace.id };
  t.true(await can(org, 'delete', owner));
  t.true(await can(space, 'delete', owner), 'the workspace-to-organization tuple was replayed');
  t.true(await can(space, 'view', viewer));
  t.false(await can(space, 'edit', viewer));
  t.false(await can(org, 'delete', viewer));
});

test('a second instance with an embedded SpiceDB on the same database refuses to boot', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const first = await startTestService({ database, environment: EMBEDDED_SPICEDB });
  t.teardown(() => first.stop());
  const error = await t.throwsAsync(startTestService({ database, environment: EMBEDDED_SPICEDB }));
  t.regex(error?.message ?? '', /embedded SpiceDB allows one instance/i);
});

test('the boot log names the database it uses and the SpiceDB it asks, with no password', async (t) => {
  const logLines: string[] = [];
  const service = await startTestService({ environment: { LOG_LEVEL: 'info' }, logLines });
  t.teardown(() => service.stop());
  const messages = logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  const database = new URL(service.database.url);
  t.true(
    messages.includes(`PostgreSQL at postgres://${database.username}${database.password ? ':***' : ''}@${database.host}${database.pathname}`),
    messages.join('\n'),
  );
  const endpoint = process.env.SPICEDB_ENDPOINT;
  t.true(messages.includes(endpoint ? `SpiceDB at ${endpoint}` : 'SpiceDB embedded in this process (memory datastore)'), messages.join('\n'));
});
