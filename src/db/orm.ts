import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

export type Orm = MikroORM;

/** The one place that says how the ORM is configured; the CLI config and the service both use it. */
export function ormOptions(clientUrl: string): Options {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    // Forked EntityManagers only: the global one must never be used for a request.
    allowGlobalContext: false,
    // Bounded waits: with Postgres out of reach a request fails (503) in seconds, not after a minute.
    pool: { min: 0, max: 10, idleTimeoutMillis: 10_000, acquireTimeoutMillis: 5_000, createTimeoutMillis: 3_000 },
    driverOptions: { connection: { connectionTimeoutMillis: 3_000 } },
    migrations: {
      migrationsList: migrations,
      tableName: 'schema_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
      path: 'src/db/migrations',
      emit: 'ts',
      fileName: (timestamp, name) => `migration-${timestamp}${name ? `-${name}` : ''}`,
    },
  });
}

/** Connects and brings the schema to the newest migration. */
export async function openOrm(clientUrl: string): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(clientUrl));
  await orm.getMigrator().up();
  return orm;
}
