import type { ExecutionContext } from 'ava';
import { createTestDatabase } from './database.ts';
import { startSpiceDbServer } from './spicedb-server.ts';
import { startTestService, type TestService } from './test-service.ts';

/**
 * Two instances of the service on one database and one `spicedb serve`, as a load balancer would
 * have them, stopped when the test ends. Only a write ends a cached allow here, not its age:
 * rounds take seconds on a loaded machine, past the 2 s an allow is kept by default.
 */
export async function twoInstances(t: ExecutionContext, datastore: 'memory' | 'postgres' = 'memory'): Promise<[TestService, TestService]> {
  const spicedb = await startSpiceDbServer({ datastore });
  t.teardown(() => spicedb.stop());
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const environment = {
    SPICEDB_ENDPOINT: spicedb.endpoint,
    SPICEDB_PRESHARED_KEY: spicedb.presharedKey,
    SPICEDB_INSECURE: 'true',
    DECISION_CACHE_MAX_AGE_MS: '60000',
  };
  const [first, second] = [await startTestService({ database, environment }), await startTestService({ database, environment })];
  t.teardown(async () => {
    await first.stop();
    await second.stop();
  });
  return [first, second];
}

/** How many other instances' writes this instance has heard of (the floor channel). */
export async function writesHeard(service: TestService): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(/^authz_floor_propagation_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Waits (at most about 5 s) until the instance has heard of a write past `before`. */
export async function untilHeard(service: TestService, before: number): Promise<void> {
  for (let attempt = 0; attempt < 500 && (await writesHeard(service)) <= before; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
