import { randomUUID } from 'node:crypto';
import { dropDatabase, ensureDatabaseExists } from '../../src/db/postgres.ts';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the suite's Postgres server (scripts/test.ts sets TEST_DATABASE_URL). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(server);
  url.pathname = `/tenant_authz_test_${randomUUID().replaceAll('-', '')}`;
  await ensureDatabaseExists(url.toString());
  return { url: url.toString(), drop: () => dropDatabase(url.toString()) };
}
