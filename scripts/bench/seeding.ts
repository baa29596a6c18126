// Growing the graph: Postgres rows and SpiceDB tuples written around the service, as a
// production datastore would already hold them.
import type { v1 } from '@authzed/authzed-node';
import { insertRows, stepTuples, writeTuples, type GraphStep } from './graph.ts';
import { log, withClient } from './infra.ts';
import { graph } from './workload.ts';

/**
 * One growth step: bulk rows, then the tuples, then VACUUM ANALYZE of both databases. Without
 * statistics Postgres plans SpiceDB's tuple queries for empty tables (about 3x slower checks
 * until autovacuum catches up, at a moment no run controls); a production datastore has them.
 * Answers when the tuples were written (Date.now()).
 */
export async function seedStep(
  databaseUrl: string,
  datastoreUrl: string,
  spicedb: v1.ZedClientInterface,
  step: GraphStep,
  passwordHash: string,
  withPowerUser: boolean,
): Promise<number> {
  const started = performance.now();
  await withClient(databaseUrl, (client) => insertRows(client, graph, step, passwordHash, withPowerUser));
  const rowsSeconds = (performance.now() - started) / 1000;
  const { written, batches } = await writeTuples(spicedb, stepTuples(graph, step, withPowerUser));
  const wroteAt = Date.now();
  await withClient(databaseUrl, (client) => client.query('vacuum analyze'));
  await withClient(datastoreUrl, (client) => client.query('vacuum analyze'));
  const seconds = (performance.now() - started) / 1000;
  log(
    `seeded organizations ${step.fromOrg}-${step.toOrg - 1}: Postgres rows in ${rowsSeconds.toFixed(1)} s, ` +
      `${written} tuples in ${batches} WriteRelationships, VACUUM ANALYZE; ${seconds.toFixed(1)} s in all`,
  );
  return wroteAt;
}

export async function counts(databaseUrl: string): Promise<Record<string, number>> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<Record<string, string>>(
      `select (select count(*) from users) users, (select count(*) from organizations) organizations,
              (select count(*) from organization_memberships) organization_memberships,
              (select count(*) from workspaces) workspaces, (select count(*) from workspace_memberships) workspace_memberships`,
    );
    return Object.fromEntries(Object.entries(result.rows[0] ?? {}).map(([name, value]) => [name, Number(value)]));
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One JSON request to the service, outside any measurement; throws on a non-2xx answer. */
export async function api<T>(baseUrl: string, path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
