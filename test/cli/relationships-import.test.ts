import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { bearer, makeServiceAccount, makeWorkspaceTenant, type WorkspaceTenant } from '../support/factories.ts';
import { createTestDatabase } from '../support/database.ts';
import { eventually } from '../support/eventually.ts';
import type { CheckBody } from '../support/responses.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

/**
 * `npm run cli -- relationships import|export MODULE`: a module's relationships in bulk, in NDJSON
 * (the API's shape, any ids) or zed's validation-file form, idempotent, all or nothing per batch;
 * beside a service with an embedded SpiceDB the grants reach it through the outbox, and a restart
 * replays them from Postgres.
 */

const run = promisify(execFile);
const folder = mkdtempSync(path.join(tmpdir(), 'tenant-authz-import-'));

/** The CLI beside `service`, on its database and its SpiceDB (the service's own when embedded). */
function cli(service: TestService, ...args: string[]) {
  const spicedb = service.config.spicedb;
  return run(process.execPath, ['src/cli/main.ts', 'relationships', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: service.database.url,
      ...(service.config.policyDirectory && { POLICY_DIR: service.config.policyDirectory }),
      ...(spicedb.mode === 'server' && { SPICEDB_ENDPOINT: spicedb.endpoint, SPICEDB_PRESHARED_KEY: spicedb.presharedKey, SPICEDB_INSECURE: 'true' }),
      LOG_LEVEL: 'error',
    },
  });
}

function file(name: string, text: string): string {
  const at = path.join(folder, name);
  writeFileSync(at, text);
  return at;
}

async function can(service: TestService, key: string, resource: { type: string; id: string }, permission: string, user: { id: string }): Promise<boolean> {
  const response = await service.send('POST', '/api/v1/authz/check', { resource, permission, subject: { type: 'user', id: user.id } }, bearer(key));
  return ((await response.json()) as CheckBody).allowed;
}

function fixtures(tenant: WorkspaceTenant) {
  const email = `ops@${tenant.organizationId}.example`;
  const lines = [
    { resource: { type: 'docs/folder', id: email }, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } },
    { resource: { type: 'docs/document', id: `/runbooks/${tenant.organizationId}.md` }, relation: 'folder', subject: { type: 'docs/folder', id: email } },
    { resource: { type: 'docs/document', id: `/runbooks/${tenant.organizationId}.md` }, relation: 'owner', subject: { type: 'user', id: tenant.member.id } },
  ];
  return { email, document: lines[1]?.resource ?? { type: '', id: '' }, ndjson: lines.map((line) => JSON.stringify(line)).join('\n') + '\n' };
}

test('an NDJSON import is written once however often it runs, answers checks, comes back from export, and survives a restart', async (t) => {
  // Each CLI run boots stores of its own: minutes on a loaded two-core machine.
  t.timeout(240_000);
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const first = await startTestService({ database, environment: { OUTBOX_POLL_MS: '100' } });
  let running = first;
  t.teardown(() => running.stop());
  const tenant = await makeWorkspaceTenant(first, { plan: 'pro' });
  const { key } = await makeServiceAccount(first, [], { modules: ['docs'] });
  const { document, ndjson } = fixtures(tenant);
  const source = file(`docs-${tenant.organizationId}.ndjson`, ndjson);

  const imported = await cli(first, 'import', 'docs', source);
  t.is(imported.stdout.trim(), '3 relationships read: 3 added, 0 already present, in 1 batches');
  t.true(await eventually(() => can(first, key, document, 'view', tenant.viewer)), 'the running service delivers the import from the outbox');
  t.false(await can(first, key, document, 'view', tenant.stranger));
  const again = await cli(first, 'import', 'docs', source);
  t.is(again.stdout.trim(), '3 relationships read: 0 added, 3 already present, in 1 batches');

  const exported = await cli(first, 'export', 'docs');
  t.deepEqual(exported.stdout.trim().split('\n').map((line) => JSON.parse(line)).sort(byText), ndjson.trim().split('\n').map((line) => JSON.parse(line)).sort(byText));
  const zed = await cli(first, 'export', 'docs', '--format', 'zed').then(
    () => 'exported',
    (error: { stderr: string }) => error.stderr,
  );
  t.regex(zed, /cannot be spelled in zed's form; export NDJSON instead/);

  await first.stop();
  running = await startTestService({ database });
  t.true(await can(running, key, document, 'edit', tenant.editor), 'replayed from Postgres into the new embedded SpiceDB');
});

test("zed's validation-file form imports and exports; a batch with a bad line writes nothing of it and names the line", async (t) => {
  // Each CLI run boots stores of its own: minutes on a loaded two-core machine.
  t.timeout(240_000);
  const service = await startTestService();
  t.teardown(() => service.stop());
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  // In the order export writes: by resource type, id, relation and subject.
  const zed = `relationships: |-\n  docs/document:intro#folder@docs/folder:handbook\n  docs/document:intro#viewer@user:*\n  docs/folder:handbook#workspace@workspace:${tenant.spaceId}\n`;
  const imported = await cli(service, 'import', 'docs', file(`docs-${tenant.organizationId}.yaml`, zed), '--format', 'zed');
  t.is(imported.stdout.trim(), '3 relationships read: 3 added, 0 already present, in 1 batches');
  const exported = await cli(service, 'export', 'docs', '--format', 'zed');
  t.is(exported.stdout, zed);

  const bad = [
    JSON.stringify({ resource: { type: 'docs/document', id: 'good' }, relation: 'owner', subject: { type: 'user', id: tenant.member.id } }),
    JSON.stringify({ resource: { type: 'docs/document', id: 'bad' }, relation: 'reader', subject: { type: 'user', id: tenant.member.id } }),
  ].join('\n');
  const refused = await cli(service, 'import', 'docs', file(`bad-${tenant.organizationId}.ndjson`, bad)).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  t.is(refused?.code, 1);
  t.regex(refused?.stderr ?? '', /line 2: relation is not a relation of docs\/document/);
  const [row] = await service.orm.em.fork().execute<Array<{ count: string }>>("select count(*) from module_relationships where resource_id = 'good'");
  t.is(row?.count, '0', 'nothing of the batch was written');
});

function byText(a: unknown, b: unknown): number {
  return JSON.stringify(a).localeCompare(JSON.stringify(b));
}

test('a module dropped into its own POLICY_DIR gets an account, imports its fixtures and answers checks, with no code change', async (t) => {
  // Each CLI run boots stores of its own: minutes on a loaded two-core machine.
  t.timeout(240_000);
  const policy = mkdtempSync(path.join(tmpdir(), 'tenant-authz-todo-'));
  writeFileSync(
    path.join(policy, 'todo.zed'),
    [
      'definition todo/list {',
      '    relation workspace: workspace',
      '    relation owner: user',
      '    relation member: user | team#member',
      '',
      '    permission edit = owner + workspace->edit',
      '    permission view = member + edit + workspace->view',
      '}',
      '',
      'definition todo/item {',
      '    relation list: todo/list',
      '    relation assignee: user',
      '',
      '    permission complete = assignee + list->edit',
      '    permission view = complete + list->view',
      '}',
      '',
    ].join('\n'),
  );
  // Embedded whatever the suite's mode: a service (and its CLI) on a shared spicedb serve would
  // write a schema without the other tests' modules, and theirs would drop this one's.
  const service = await startTestService({ environment: { POLICY_DIR: policy, OUTBOX_POLL_MS: '100', SPICEDB_ENDPOINT: '' } });
  t.teardown(() => service.stop());
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, [], { modules: ['todo'] });
  const list = `/lists/${tenant.organizationId}`;
  const item = `/todos/${tenant.organizationId}/1`;
  const ndjson = [
    { resource: { type: 'todo/list', id: list }, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } },
    { resource: { type: 'todo/item', id: item }, relation: 'list', subject: { type: 'todo/list', id: list } },
    { resource: { type: 'todo/item', id: item }, relation: 'assignee', subject: { type: 'user', id: tenant.member.id } },
  ].map((line) => JSON.stringify(line)).join('\n');
  const imported = await cli(service, 'import', 'todo', file(`todo-${tenant.organizationId}.ndjson`, ndjson));
  t.is(imported.stdout.trim(), '3 relationships read: 3 added, 0 already present, in 1 batches');
  const todo = { type: 'todo/item', id: item };
  t.true(await eventually(() => can(service, key, todo, 'complete', tenant.member)));
  t.true(await can(service, key, todo, 'complete', tenant.editor), 'the workspace editor edits the list');
  t.true(await can(service, key, todo, 'view', tenant.viewer));
  t.false(await can(service, key, todo, 'complete', tenant.viewer));
  t.false(await can(service, key, todo, 'view', tenant.stranger));
  const schema = (await (await service.request('/api/v1/authz/schema', { headers: bearer(key) })).json()) as { modules: Array<{ name: string }> };
  t.deepEqual(schema.modules.map(({ name }) => name), ['todo'], 'only the folder POLICY_DIR names');
});
