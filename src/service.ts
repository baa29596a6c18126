import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSchema, assertRegistryMatchesSchema } from './authz/schema.js';
import { replayRecordedRelationships } from './authz/relationship-snapshot.js';
import type { RelationshipOutbox } from './authz/outbox.js';
import { connectSpiceDb, type SpiceDbClient } from './authz/spicedb.client.js';
import type { Config } from './config.js';
import { openOrm, type Orm } from './db/orm.js';
import { ensureDatabaseExists, startEmbeddedPostgres, type EmbeddedPostgresServer } from './db/postgres.js';
import { composeApplication } from './composition.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';

export interface RunningService {
  /** Where the HTTP server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  orm: Orm;
  spicedb: SpiceDbClient;
  outbox: RelationshipOutbox;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes the stores. */
  stop(): Promise<void>;
}

const EMBEDDED_DATABASE_NAME = 'tenant_authz';

/**
 * Boot, in order: the database (created if missing, migrated), SpiceDB (schema written; tuples
 * replayed from Postgres when it is the in-memory embedded one), then the HTTP listener.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await Promise.resolve(close()).catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };
  try {
    const metrics = new Metrics();
    const databaseUrl = await resolveDatabaseUrl(config, logger, closers);
    await ensureDatabaseExists(databaseUrl);
    const orm = await openOrm(databaseUrl);
    closers.push(() => orm.close());

    const schema = readSchema();
    assertRegistryMatchesSchema(schema);
    const spicedb = await connectSpiceDb(config.spicedb, metrics);
    closers.push(() => spicedb.close());
    await spicedb.writeSchema(schema);
    if (spicedb.mode === 'embedded') {
      const replayed = await replayRecordedRelationships(orm.em.fork(), spicedb);
      logger.info({ relationships: replayed }, 'replayed Postgres relationships into embedded SpiceDB');
    }

    const { app, outbox } = await composeApplication({ config, logger, metrics, orm, spicedb });
    // Whatever an earlier process committed but did not deliver goes out first.
    await outbox.drain();
    outbox.start();
    closers.push(() => outbox.stop());

    const server = app.listen(config.http.port, config.http.host);
    await once(server, 'listening');
    closers.push(() => closeServer(server, config.http.shutdownGraceMs));
    const url = listeningUrl(server);
    logger.info({ url, spicedb: spicedb.mode, database: config.database.mode }, 'listening');

    return { url, orm, spicedb, outbox, stop: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function resolveDatabaseUrl(
  config: Config,
  logger: Logger,
  closers: Array<() => Promise<void> | void>,
): Promise<string> {
  if (config.database.mode === 'external') return config.database.url;
  const server: EmbeddedPostgresServer = await startEmbeddedPostgres(config.database.dataDir, config.database.port);
  closers.push(() => server.stop());
  logger.info({ dataDir: config.database.dataDir, port: config.database.port }, 'started embedded PostgreSQL');
  const url = new URL(server.url);
  url.pathname = `/${EMBEDDED_DATABASE_NAME}`;
  return url.toString();
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
}
