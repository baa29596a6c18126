import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PERMISSIONS, permissionsOn } from '../../src/authz/permissions.ts';
import { mayGrant, SERVICE_OWNED_TYPES } from '../../src/authz/relationships.ts';
import { composePolicy, readPolicy } from '../../src/authz/policy-modules.ts';
import { compareRegistryWithSchema, declaredPermissions, defaultPolicyDirectory, describeSchema, readSchema } from '../../src/authz/schema.ts';
import { connectSpiceDb, type SpiceDbClient } from '../../src/authz/spicedb.client.ts';
import type { PermissionQuery } from '../../src/authz/types.ts';
import { loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { startSpiceDbServer, type SpiceDbServer } from '../support/spicedb-server.ts';
import { describeQuery, readZedValidationFile } from '../support/zed-validation.ts';

const schema = readSchema();
const validation = readZedValidationFile(path.resolve('test/policy/schema.validation.yaml'));

async function loadedSpiceDb(mode: 'configured' | 'embedded', server?: SpiceDbServer): Promise<SpiceDbClient> {
  // The test service's deadline: next to the mutation tests' SpiceDBs, a fresh server's first
  // schema write took longer than the 2 s production one.
  const base = { ...process.env, SPICEDB_TIMEOUT_MS: '10000' };
  const environment =
    mode === 'embedded'
      ? { ...base, SPICEDB_ENDPOINT: '' }
      : server
        ? { ...base, SPICEDB_ENDPOINT: server.endpoint, SPICEDB_PRESHARED_KEY: server.presharedKey, SPICEDB_INSECURE: 'true' }
        : base;
  const spicedb = await connectSpiceDb(loadConfig(environment).spicedb, new Metrics());
  await spicedb.writeSchema(schema);
  await spicedb.writeRelationships(validation.relationships.map((relationship) => ({ operation: 'touch', relationship })));
  return spicedb;
}

/** The assertions (those `about` picks, or all) that do not hold; empty when the policy behaves as the validation file says. */
async function failedAssertions(spicedb: SpiceDbClient, about: (query: PermissionQuery) => boolean = () => true): Promise<string[]> {
  const queries: Array<[PermissionQuery, boolean]> = [
    ...validation.assertTrue.map((query): [PermissionQuery, boolean] => [query, true]),
    ...validation.assertFalse.map((query): [PermissionQuery, boolean] => [query, false]),
  ].filter(([query]) => about(query));
  if (queries.length === 0) return [];
  const { results } = await spicedb.checkBulkPermissions(queries.map(([query]) => query), { kind: 'fully_consistent' });
  return queries.flatMap(([query, expected], index) => {
    const result = results[index];
    const allowed = result !== undefined && 'allowed' in result && result.allowed;
    return allowed === expected ? [] : [`${expected ? 'assertTrue' : 'assertFalse'} ${describeQuery(query)}`];
  });
}

/**
 * Whether a mutated schema breaks at least one assertion. Those about the definition the mutation
 * is in go first, and the rest only when none of them breaks: the mutation tests stop at the first
 * failure instead of checking every assertion for every mutation (they outran the suite's
 * 60-second timeout on a loaded machine).
 */
async function someAssertionFails(spicedb: SpiceDbClient, mutatedAt: number): Promise<boolean> {
  const definition = [...schema.slice(0, mutatedAt).matchAll(/^definition\s+([a-z_]+)/gm)].at(-1)?.[1];
  const inDefinition = (query: PermissionQuery) => query.resource.type === definition;
  return (await failedAssertions(spicedb, inDefinition)).length > 0 || (await failedAssertions(spicedb, (query) => !inDefinition(query))).length > 0;
}

test('every registry entry is a permission of schema.zed, and every schema permission has a registry entry', (t) => {
  t.deepEqual(compareRegistryWithSchema(schema), { missingFromSchema: [], missingFromRegistry: [] });
});

test('the registry comparison reports a schema permission that the registry lacks, and the reverse', (t) => {
  const drifted = schema
    .replace('permission transfer_ownership = owner', 'permission archive = owner')
    .replace(
      'permission view = (viewer & organization->view) + (role_binding->view & organization->view) + edit + organization->view_workspaces',
      'permission view = viewer + edit\n    permission export = admin',
    );
  t.deepEqual(compareRegistryWithSchema(drifted), {
    missingFromSchema: ['org:transfer_ownership'],
    missingFromRegistry: ['organization/archive', 'workspace/export'],
  });
});

test('registry names are <prefix>:<schema permission>, and org:* names are the organization permissions', (t) => {
  for (const [name, definition] of Object.entries(PERMISSIONS)) {
    t.is(name.split(':')[1], definition.permission, name);
  }
  t.true(permissionsOn('organization').every((name) => name.startsWith('org:')));
  t.is(permissionsOn('organization').length, 18);
  t.is(permissionsOn('workspace').length, 5);
});

test('a grant is allowed only where schema.zed has the relation: every service-owned type is shareable, public access is viewer only, and a type without them is not', (t) => {
  const model = describeSchema(schema);
  const someone = { type: 'user', id: '6f1c2b1e-93a4-4bb2-8d3e-1f0e4f5a6b7c' };
  const everyone = { type: 'user', id: '*' };
  for (const type of SERVICE_OWNED_TYPES) {
    t.true(mayGrant(model, type, 'viewer', someone), type);
    t.true(mayGrant(model, type, 'editor', someone), type);
    t.true(mayGrant(model, type, 'viewer', everyone), type);
    t.false(mayGrant(model, type, 'editor', everyone), type);
  }
  const privateOnly = describeSchema(`definition user {}
definition workspace {}
definition report {
    relation workspace: workspace
    relation viewer: user | user with expiration
}`);
  t.true(mayGrant(privateOnly, 'report', 'viewer', someone));
  t.false(mayGrant(privateOnly, 'report', 'viewer', everyone), 'no user:* on its viewer');
  t.false(mayGrant(privateOnly, 'report', 'editor', someone), 'no editor relation');
});

test('the validation file covers every permission of the schema', (t) => {
  const asserted = new Set(validation.assertTrue.map((query) => `${query.resource.type}/${query.permission}`));
  t.deepEqual([...declaredPermissions(schema)].filter((permission) => !asserted.has(permission)), []);
});

test("every assertion of the zed validation file holds through the service's SpiceDB client", async (t) => {
  // In server mode, on a `spicedb serve` of its own (on Postgres, as production runs it): the cast's
  // public resources (`user:*`) would show in every other test file's lookups on the shared one.
  const server = process.env.SPICEDB_ENDPOINT ? await startSpiceDbServer({ datastore: 'postgres' }) : undefined;
  if (server) t.teardown(() => server.stop());
  const spicedb = await loadedSpiceDb('configured', server);
  t.teardown(() => spicedb.close());
  t.true(validation.assertTrue.length > 100 && validation.assertFalse.length > 100);
  t.deepEqual(await failedAssertions(spicedb), []);
});

// The policy is only as good as its assertions: each rule, emptied, must break at least one.
test('emptying any single permission rule of schema.zed makes at least one assertion fail', async (t) => {
  // One schema write per mutation: well over a minute on a loaded machine.
  t.timeout(600_000);
  const spicedb = await loadedSpiceDb('embedded');
  t.teardown(() => spicedb.close());
  const rules = [...schema.matchAll(/^(\s*permission\s+([a-z_]+)\s*=).*$/gm)];
  // The registry's permissions, and the custom roles' composition permissions (role, role_binding).
  t.is(rules.length, [...describeSchema(schema).values()].reduce((count, definition) => count + definition.permissions.size, 0));
  t.true(rules.length > Object.keys(PERMISSIONS).length);
  for (const rule of rules) {
    const [line = '', head = ''] = rule;
    const mutated = schema.slice(0, rule.index) + `${head} nil` + schema.slice(rule.index + line.length);
    await spicedb.writeSchema(mutated);
    t.true(await someAssertionFails(spicedb, rule.index), `no assertion notices \`${line.trim()}\` becoming nil`);
  }
});

// And each term of a union: dropping one (a direct grant's `viewer`, the `edit` that lets a direct
// editor view, a role of `(owner + admin) & view`, a custom role's grant) must break at least one
// assertion too. A union is a whole rule, or a parenthesized group in one; rules of another shape
// are covered above.
test('dropping any single term of a union rule of schema.zed makes at least one assertion fail', async (t) => {
  // One schema write per mutation: well over a minute on a loaded machine.
  t.timeout(600_000);
  const spicedb = await loadedSpiceDb('embedded');
  t.teardown(() => spicedb.close());
  // A term of a whole rule's union is a name, an arrow, or a parenthesized intersection
  // (`(role->workspace_view & view)`); a group's terms are names and arrows.
  const plain = '[a-z_]+(?:->[a-z_]+)?';
  const term = String.raw`(?:\([^()+]*\)|[a-z_]+(?:->[a-z_]+)?)`;
  const union = `${term}(?:\\s*\\+\\s*${term})+`;
  const groupUnion = `${plain}(?:\\s*\\+\\s*${plain})+`;
  const unions = [...schema.matchAll(/^\s*permission\s.*$/gm)].flatMap((rule) => {
    const whole = new RegExp(`=\\s*(${union})\\s*$`).exec(rule[0]);
    const groups = [...rule[0].matchAll(new RegExp(`\\((${groupUnion})\\)`, 'g'))];
    return [...(whole ? [whole] : []), ...groups].map((found) => ({
      rule: rule[0].trim(),
      expression: found[1] ?? '',
      index: rule.index + found.index + found[0].indexOf(found[1] ?? ''),
    }));
  });
  t.true(unions.length >= 16);
  for (const { rule, expression, index } of unions) {
    const terms = expression.split('+').map((found) => found.trim());
    for (const dropped of terms) {
      const rest = terms.filter((kept) => kept !== dropped).join(' + ');
      await spicedb.writeSchema(schema.slice(0, index) + rest + schema.slice(index + expression.length));
      t.true(await someAssertionFails(spicedb, index), `no assertion notices \`${rule}\` losing \`${dropped}\``);
    }
  }
});

// Defense in depth is a rule too: dropping any one intersection (`& organization->view`) must let
// some holder who is not in the organization through, which an assertFalse notices.
test('dropping any single intersection of schema.zed makes at least one assertion fail', async (t) => {
  // One schema write per mutation: well over a minute on a loaded machine.
  t.timeout(600_000);
  const spicedb = await loadedSpiceDb('embedded');
  t.teardown(() => spicedb.close());
  const intersections = [...schema.matchAll(/^\s*permission\s.*$/gm)].flatMap((rule) =>
    [...rule[0].matchAll(/\s*&\s*[a-z_]+(?:->[a-z_]+)?/g)].map((found) => ({
      rule: rule[0].trim(),
      text: found[0],
      index: rule.index + found.index,
    })),
  );
  // Second-factor and custom-role intersections at the organization, workspace roles and bindings, grants in the role.
  t.is(intersections.length, 46);
  for (const { rule, text, index } of intersections) {
    await spicedb.writeSchema(schema.slice(0, index) + schema.slice(index + text.length));
    t.true(await someAssertionFails(spicedb, index), `no assertion notices \`${text.trim()}\` dropped from \`${rule}\``);
  }
});

// Policy modules (policy/<name>.zed) are held to their own assertions (policy/<name>.yaml), against
// schema.zed composed with every module as the service composes it at boot.
const policyDirectory = defaultPolicyDirectory();
const shippedModules = readPolicy(policyDirectory).modules.map((module) => ({
  module,
  source: readFileSync(path.join(policyDirectory, `${module.name}.zed`), 'utf8'),
  validation: readZedValidationFile(path.join(policyDirectory, `${module.name}.yaml`)),
}));
type ShippedModule = (typeof shippedModules)[number];

/** An embedded SpiceDB holding the composed schema (with `source` standing for the module's file) and the module's relationships. */
async function moduleSpiceDb({ module, validation }: ShippedModule): Promise<SpiceDbClient> {
  const spicedb = await connectSpiceDb(loadConfig({ ...process.env, SPICEDB_ENDPOINT: '', SPICEDB_TIMEOUT_MS: '10000' }).spicedb, new Metrics());
  await spicedb.writeSchema(composedWith(module.name, undefined));
  await spicedb.writeRelationships(validation.relationships.map((relationship) => ({ operation: 'touch', relationship })));
  return spicedb;
}

/** The composed schema, with one module's text replaced (a mutation) when `text` is given. */
function composedWith(name: string, text: string | undefined): string {
  return composePolicy(
    schema,
    shippedModules.map((shipped) => ({ file: shipped.module.file, text: shipped.module.name === name && text !== undefined ? text : shipped.source })),
  ).composed;
}

async function moduleAssertionFails(spicedb: SpiceDbClient, { validation }: ShippedModule): Promise<string[]> {
  const queries: Array<[PermissionQuery, boolean]> = [
    ...validation.assertTrue.map((query): [PermissionQuery, boolean] => [query, true]),
    ...validation.assertFalse.map((query): [PermissionQuery, boolean] => [query, false]),
  ];
  const { results } = await spicedb.checkBulkPermissions(queries.map(([query]) => query), { kind: 'fully_consistent' });
  return queries.flatMap(([query, expected], index) => {
    const result = results[index];
    const allowed = result !== undefined && 'allowed' in result && result.allowed;
    return allowed === expected ? [] : [`${expected ? 'assertTrue' : 'assertFalse'} ${describeQuery(query)}`];
  });
}

test('the docs module ships, and every module has assertions covering each of its permissions', (t) => {
  t.true(shippedModules.some(({ module }) => module.name === 'docs'));
  for (const { module, validation } of shippedModules) {
    const asserted = new Set(validation.assertTrue.map((query) => `${query.resource.type}/${query.permission}`));
    const declared = [...declaredPermissions(schema + '\n' + shippedModules.find((shipped) => shipped.module === module)?.source)].filter((permission) =>
      permission.startsWith(`${module.name}/`),
    );
    t.true(declared.length > 0, module.name);
    t.deepEqual(declared.filter((permission) => !asserted.has(permission)), [], module.name);
    t.true(validation.assertFalse.length > 0, module.name);
  }
});

test("every assertion of every policy module holds through the service's SpiceDB client, on the composed schema", async (t) => {
  for (const shipped of shippedModules) {
    const spicedb = await moduleSpiceDb(shipped);
    t.teardown(() => spicedb.close());
    t.deepEqual(await moduleAssertionFails(spicedb, shipped), [], shipped.module.name);
  }
});

test("emptying any permission rule of a policy module, or dropping any term of its unions, makes one of the module's assertions fail", async (t) => {
  for (const shipped of shippedModules) {
    const spicedb = await moduleSpiceDb(shipped);
    t.teardown(() => spicedb.close());
    const rules = [...shipped.source.matchAll(/^(\s*permission\s+[a-z_]+\s*=\s*)(.+?)\s*$/gm)];
    t.true(rules.length > 0, shipped.module.name);
    for (const rule of rules) {
      const [line = '', head = '', expression = ''] = rule;
      const terms = expression.split('+').map((term) => term.trim());
      const mutations = [`${head}nil`, ...(terms.length > 1 ? terms.map((dropped) => head + terms.filter((term) => term !== dropped).join(' + ')) : [])];
      for (const mutated of mutations) {
        await spicedb.writeSchema(composedWith(shipped.module.name, shipped.source.slice(0, rule.index) + mutated + shipped.source.slice(rule.index + line.length)));
        t.true((await moduleAssertionFails(spicedb, shipped)).length > 0, `${shipped.module.file}: no assertion notices \`${line.trim()}\` becoming \`${mutated.trim()}\``);
      }
    }
  }
});
