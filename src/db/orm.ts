import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { entities } from './entities/index.ts';
import { migrations } from './migrations/index.ts';

export type Orm = MikroORM;

/** The one place that says how the ORM is configured; the CLI config and the service both use it. */
export function ormOptions(clientUrl: string, poolMax = 10): Options {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    // Forked EntityManagers only: the global one must never be used for a request.
    allowGlobalContext: false,
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 10_000 },
    // Handed to pg.Pool as they are. A bounded wait: with Postgres out of reach a request fails
    // (503) in seconds, not after a minute. pg-pool has one limit for both waiting for a free
    // connection and opening a new one (knex had 5 s and 3 s): the longer one, so bursts still queue.
    driverOptions: { connectionTimeoutMillis: 5_000 },
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
export async function openOrm(clientUrl: string, poolMax?: number): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(clientUrl, poolMax));
  await orm.migrator.up();
  return orm;
}
