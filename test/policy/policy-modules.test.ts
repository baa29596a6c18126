import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { composePolicy, PolicyModuleError, readPolicy, refusedSchemaError } from '../../src/authz/policy-modules.ts';
import { readSchema } from '../../src/authz/schema.ts';
import { connectSpiceDb, SpiceDbRejected } from '../../src/authz/spicedb.client.ts';
import { loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createTestDatabase } from '../support/database.ts';
import { startMain } from '../support/processes.ts';

const core = readSchema();

function refusal(file: string, text: string): string {
  const error = (() => {
    try {
      composePolicy(core, [{ file, text }]);
    } catch (caught) {
      return caught;
    }
    return undefined;
  })();
  if (!(error instanceof PolicyModuleError)) throw new Error(`${file} was not refused`);
  return error.message;
}

/** A folder holding one module file, for POLICY_DIR. */
function moduleFolder(name: string, text: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'tenant-authz-policy-'));
  writeFileSync(path.join(folder, `${name}.zed`), text);
  return folder;
}

test('the shipped docs module composes with schema.zed: its types are named docs/<type> and listed', (t) => {
  const policy = readPolicy(undefined);
  t.deepEqual(
    policy.modules.map(({ name, types }) => ({ name, types })),
    [{ name: 'docs', types: ['docs/folder', 'docs/document'] }],
  );
  t.true(policy.composed.startsWith(core));
  t.deepEqual([...(policy.model.get('docs/document')?.permissions ?? [])], ['edit', 'view', 'delete']);
});

test('a module may not define or change a core type', (t) => {
  t.is(
    refusal('policy/todo.zed', 'definition todo/list {}\n\ndefinition workspace {\n    relation owner: user\n}\n'),
    'policy/todo.zed:3: definition workspace: a module may not define or change the core type workspace',
  );
});

test("a module's definitions are all named <module>/<type>", (t) => {
  t.is(refusal('policy/todo.zed', '// lists\ndefinition list {}\n'), 'policy/todo.zed:2: definition list must be named todo/list');
  t.is(
    refusal('policy/todo.zed', 'definition todo/list {}\ndefinition docs/page {}\n'),
    'policy/todo.zed:2: definition docs/page must be named todo/page: a module defines only its own types',
  );
});

test('a module refers only to core types and its own', (t) => {
  t.is(
    refusal('policy/todo.zed', 'definition todo/list {\n    relation workspace: workspace\n    relation page: docs/folder | user\n}\n'),
    'policy/todo.zed:3: relation page names docs/folder, which is neither a core type (user, organization, workspace, team) nor a type of module todo',
  );
  t.is(
    refusal('policy/todo.zed', 'definition todo/list {\n    relation bot: chatbot\n}\n'),
    'policy/todo.zed:2: relation bot names chatbot, which is neither a core type (user, organization, workspace, team) nor a type of module todo',
  );
});

test('a module must define something, under a name SpiceDB can spell', (t) => {
  t.regex(refusal('policy/todo.zed', '// nothing yet\n'), /^policy\/todo\.zed:1: defines no types/);
  t.regex(refusal('policy/To-Do.zed', 'definition To-Do/list {}\n'), /^policy\/To-Do\.zed:1: the module name To-Do must be/);
});

test("SpiceDB's refusal of a module names the module's file and the line it is about", async (t) => {
  const policy = composePolicy(core, [
    { file: 'policy/todo.zed', text: 'definition todo/list {\n    relation owner: user\n\n    permission view = owner + reader\n}\n' },
  ]);
  const spicedb = await connectSpiceDb(loadConfig({ ...process.env, SPICEDB_ENDPOINT: '' }).spicedb, new Metrics());
  t.teardown(() => spicedb.close());
  const error = await t.throwsAsync(spicedb.writeSchema(policy.composed), { instanceOf: SpiceDbRejected });
  t.regex(refusedSchemaError(policy, error?.message ?? '').message, /^policy\/todo\.zed:4: SpiceDB refused it: .*`reader`/);
});

test('a module that breaks the rules stops boot with one line naming file, line and reason (exit 78)', async (t) => {
  const folder = moduleFolder('todo', 'definition todo/list {\n    relation owner: user\n}\n\ndefinition team {}\n');
  const main = startMain({ POLICY_DIR: folder, PORT: '0', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused' });
  t.is(await main.exited, 78);
  const lines = main.stderr().trim().split('\n');
  t.is(lines.length, 1, main.stderr());
  t.regex(lines[0] ?? '', /todo\.zed:5: definition team: a module may not define or change the core type team$/);
});

test('a module SpiceDB refuses stops boot with one line naming file and line (exit 78)', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const folder = moduleFolder('todo', 'definition todo/list {\n    relation owner: user\n    permission view = owner + nobody\n}\n');
  const main = startMain({ POLICY_DIR: folder, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
  t.is(await main.exited, 78);
  const lines = main.stderr().trim().split('\n');
  t.is(lines.length, 1, main.stderr());
  t.regex(lines[0] ?? '', /todo\.zed:3: SpiceDB refused it: .*`nobody`/);
});
