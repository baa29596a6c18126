import { assertRegistryMatchesSchema } from './authz/schema.ts';
import { readPolicy, refusedSchemaError, type Policy } from './authz/policy-modules.ts';
import { FloorChannel } from './authz/floor-channel.ts';
import { SessionRevocations } from './authz/session-revocations.ts';
import { connectSpiceDb, SpiceDbRejected, type SpiceDbClient } from './authz/spicedb.client.ts';
import type { Config } from './config.ts';
import { openOrm, type Orm } from './db/orm.ts';
import { embeddedPostgresAnswers, embeddedPostgresServing, startEmbeddedPostgres } from './db/embedded-postgres.ts';
import { ensureDatabaseExists, withMaskedPassword } from './db/postgres.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';

/** Where the database came from: DATABASE_URL, an embedded PostgreSQL this process started, or one another process runs. */
export type DatabaseSource = 'external' | 'embedded, started here' | 'embedded, already running';

export interface Stores {
  databaseUrl: string;
  databaseSource: DatabaseSource;
  orm: Orm;
  spicedb: SpiceDbClient;
  /** schema.zed with the policy modules, read once here and passed to whatever needs the model. */
  policy: Policy;
  /** Ended sessions, heard from every instance. */
  revocations: SessionRevocations;
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

const EMBEDDED_DATABASE_NAME = 'tenant_authz';

/**
 * Postgres (created if missing, migrated to the newest schema) and SpiceDB (schema.zed composed
 * with the policy modules and written, after checking schema.zed against the permission registry), with the channel that tells other
 * instances of every SpiceDB write. Used by the service and the CLI alike.
 */
export async function openStores(config: Config, logger: Logger, metrics: Metrics): Promise<Stores> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const step of closers.reverse()) {
      await Promise.resolve(step()).catch((error: unknown) => logger.error({ err: error }, 'closing a store failed'));
    }
  };
  try {
    // First: a bad module stops boot before anything is opened.
    const policy = readPolicy(config.policyDirectory);
    assertRegistryMatchesSchema(policy.core);
    const { url: databaseUrl, source: databaseSource } = await resolveDatabase(config, logger, closers);
    await ensureDatabaseExists(databaseUrl);
    const orm = await openOrm(databaseUrl, config.database.poolMax);
    closers.push(() => closePool(orm, logger));

    const spicedb = await connectSpiceDb(config.spicedb, metrics);
    closers.push(() => spicedb.close());
    if (config.spicedb.mode === 'server') {
      logger.info({ endpoint: config.spicedb.endpoint, tls: !config.spicedb.insecure }, `SpiceDB at ${config.spicedb.endpoint}`);
    } else {
      logger.info({ endpoint: 'embedded' }, 'SpiceDB embedded in this process (memory datastore)');
    }
    const channel = await FloorChannel.open(databaseUrl, spicedb.floor, metrics, logger);
    closers.push(() => channel.close());
    const revocations = await SessionRevocations.open(databaseUrl, orm, config.jwt.accessTtlSeconds, metrics, logger);
    closers.push(() => revocations.close());
    await spicedb.writeSchema(policy.composed).catch((error: unknown) => {
      throw error instanceof SpiceDbRejected ? refusedSchemaError(policy, error.message) : error;
    });
    return { databaseUrl, databaseSource, orm, spicedb, policy, revocations, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * An embedded PostgreSQL another process (the running service, or the CLI) already serves from
 * DATA_DIR, on any port, or on EMBEDDED_POSTGRES_PORT, is shared, not started twice. The URL is
 * logged with its password masked, so a developer can point psql at the embedded database (the
 * password is in docs/operations.md, "Running locally").
 */
async function resolveDatabase(
  config: Config,
  logger: Logger,
  closers: Array<() => Promise<void> | void>,
): Promise<{ url: string; source: DatabaseSource }> {
  if (config.database.mode === 'external') {
    const masked = withMaskedPassword(config.database.url);
    logger.info({ url: masked, source: 'external' }, `PostgreSQL at ${masked}`);
    return { url: config.database.url, source: 'external' };
  }
  const { dataDir, port } = config.database;
  // DATA_DIR's own server first, whatever port it was started on; then whatever answers on ours.
  let serverUrl = (await embeddedPostgresServing(dataDir)) ?? (await embeddedPostgresAnswers(port));
  let source: DatabaseSource = 'embedded, already running';
  if (!serverUrl) {
    const server = await startEmbeddedPostgres(dataDir, port);
    closers.push(() => server.stop());
    logger.info({ cluster: server.cluster, port }, 'started embedded PostgreSQL');
    serverUrl = server.url;
    source = 'embedded, started here';
  }
  const url = new URL(serverUrl);
  url.pathname = `/${EMBEDDED_DATABASE_NAME}`;
  logger.info({ url: withMaskedPassword(url.toString()), source }, `embedded PostgreSQL at ${withMaskedPassword(url.toString())}`);
  return { url: url.toString(), source };
}

/** How long closing the Postgres pool may wait for its connections to come back. */
const POOL_CLOSE_DEADLINE_MS = 5_000;

/**
 * Closes the pool, without waiting forever: a connection lost in the middle of a transaction
 * (Postgres restarted, the network cut) can stay counted as in use by the driver, and the pool's
 * end waits for it to come back, which it never does. A stopping process must stop anyway; its
 * sockets are gone already.
 */
async function closePool(orm: Orm, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), POOL_CLOSE_DEADLINE_MS);
  });
  try {
    if ((await Promise.race([orm.close(), deadline])) === 'late') {
      logger.warn(`the Postgres pool did not close within ${POOL_CLOSE_DEADLINE_MS} ms (a connection lost mid-transaction was never returned); stopping anyway`);
    }
  } finally {
    clearTimeout(timer);
  }
}
