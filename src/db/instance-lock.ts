import pg from 'pg';

/** Advisory lock key of "an instance with an embedded SpiceDB serves this database". */
const EMBEDDED_SPICEDB_LOCK = 0x7a65_6401;

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * An embedded SpiceDB lives in one process's memory: a second instance on the same database
 * would miss the first one's revocations and keep granting. Holds a session-level advisory lock
 * on a dedicated connection for the life of the process; null when another process holds it.
 */
export async function holdEmbeddedSpiceDbLock(databaseUrl: string): Promise<HeldLock | null> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [EMBEDDED_SPICEDB_LOCK]);
  if (!rows[0]?.locked) {
    await client.end();
    return null;
  }
  // Postgres frees the lock when this connection ends; a lost connection must not leave a crash behind.
  client.on('error', () => {});
  return { release: () => client.end() };
}
