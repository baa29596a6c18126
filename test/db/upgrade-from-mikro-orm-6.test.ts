import { readFileSync } from 'node:fs';
import test from 'ava';
import pg from 'pg';
import { openOrm } from '../../src/db/orm.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeTenant } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

const MIKRO_ORM_6_DATABASE = readFileSync(new URL('./fixtures/mikro-orm-6.6.16.sql', import.meta.url), 'utf8');

async function query<Row extends pg.QueryResultRow>(database: TestDatabase, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

const history = (database: TestDatabase) =>
  query<{ id: number; name: string; executed_at: Date }>(database, 'select id, name, executed_at from schema_migrations order by id');

test('MikroORM 7 takes over a database migrated by 6.6.16: no migration runs again, the history is kept, later ones follow', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  await query(database, MIKRO_ORM_6_DATABASE);
  const before = await history(database);
  const names = migrations.map((migration) => migration.name);
  const [applied, later] = [names.slice(0, before.length), names.slice(before.length)];
  t.deepEqual(before.map((row) => row.name), applied, 'the 6.6.16 database has the first migrations, in order');

  // openOrm migrates to the newest schema: only the migrations written after 6.6.16 run.
  const orm = await openOrm(database.url);
  t.teardown(() => orm.close());
  t.deepEqual(await orm.migrator.getPending(), []);
  t.deepEqual((await orm.migrator.getExecuted()).map((migration) => migration.name), names);
  const after = await history(database);
  t.deepEqual(after.slice(0, before.length), before, 'the old history is untouched');
  t.deepEqual(after.slice(before.length).map((row) => row.name), later);
});

test('the service runs on a database migrated by 6.6.16, with its one-owner index in force', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  await query(database, MIKRO_ORM_6_DATABASE);
  const service = await startTestService({ database });
  t.teardown(() => service.stop());

  const tenant = await makeTenant(service);
  // The stranger has no row in this organization, so only the partial one-owner index can refuse.
  const secondOwner = query(
    database,
    `insert into organization_memberships (id, organization_id, user_id, role)
     values (gen_random_uuid(), '${tenant.organizationId}', '${tenant.stranger.id}', 'owner')`,
  );
  await t.throwsAsync(secondOwner, { message: /organization_memberships_one_owner/ });
  const owners = await query<{ count: string }>(
    database,
    `select count(*) from organization_memberships where organization_id = '${tenant.organizationId}' and role = 'owner'`,
  );
  t.is(owners[0]?.count, '1');
});
