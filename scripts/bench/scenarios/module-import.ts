// (p) module import: `npm run cli -- relationships import docs FILE` of 100,000 relationships of
// the shipped docs module, against the bench's `spicedb serve` (so the CLI delivers each batch
// itself), on a database of its own: wall time of the whole command (its boot included), then the
// same file again (every relationship already present), with the machine's load average.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import type { Bench } from '../bench.ts';
import { createDatabase, log, startService } from '../infra.ts';
import { api } from '../seeding.ts';
import { PASSWORD, POSTGRES_URL } from '../settings.ts';

const run = promisify(execFile);

/** 1,000 folders under one workspace, each with a viewer and 49 documents (folder and owner each). */
const FOLDERS = 1_000;
const DOCUMENTS_PER_FOLDER = 49;
const RELATIONSHIPS = FOLDERS * (2 + DOCUMENTS_PER_FOLDER * 2);
/** The aim for 100,000 relationships. */
export const MODULE_IMPORT_AIM_SECONDS = 60;

export interface ModuleImport {
  relationships: number;
  firstSeconds: number;
  againSeconds: number;
  firstOutput: string;
  againOutput: string;
  loadBefore: number[];
  loadAfter: number[];
}

export async function moduleImport(bench: Bench): Promise<ModuleImport> {
  log(`measuring (p) module import: ${RELATIONSHIPS} relationships of the docs module through the CLI`);
  const database = await createDatabase(POSTGRES_URL);
  bench.cleanups.push(() => database.drop());
  const service = await startService({ databaseUrl: database.url, spicedb: bench.spicedbServer });
  bench.cleanups.push(() => service.stop());
  const name = `bench_import_${Date.now().toString(36)}`;
  const session = await api<{ access_token: string }>(service.url, '/api/v1/auth/email/signup', {
    body: { username: name, email: `${name}@bench.example`, password: PASSWORD },
  });
  const claims = decodeJwt(session.access_token);
  const userId = String(claims.sub);
  const workspaceId = String(claims.workspace_id);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenant-authz-bench-import-')), 'docs.ndjson');
  writeFileSync(file, fixture(workspaceId, userId));

  const environment = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: database.url,
    SPICEDB_ENDPOINT: bench.spicedbServer.endpoint,
    SPICEDB_PRESHARED_KEY: bench.spicedbServer.presharedKey,
    SPICEDB_INSECURE: 'true',
    LOG_LEVEL: 'warn',
  };
  const timed = async () => {
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['src/cli/main.ts', 'relationships', 'import', 'docs', file], { env: environment, maxBuffer: 1 << 24 });
    return { seconds: (performance.now() - started) / 1000, output: stdout.trim() };
  };
  const loadBefore = loadavg();
  const first = await timed();
  const again = await timed();
  const loadAfter = loadavg();
  return { relationships: RELATIONSHIPS, firstSeconds: first.seconds, againSeconds: again.seconds, firstOutput: first.output, againOutput: again.output, loadBefore, loadAfter };
}

/** Ids as services write them: emails for folders, paths (with dots and slashes) for documents, so most are encoded. */
function fixture(workspaceId: string, ownerId: string): string {
  const lines: string[] = [];
  const line = (resource: [string, string], relation: string, subject: [string, string]) =>
    lines.push(JSON.stringify({ resource: { type: resource[0], id: resource[1] }, relation, subject: { type: subject[0], id: subject[1] } }));
  for (let folder = 0; folder < FOLDERS; folder += 1) {
    const folderId = `team-${folder}@docs.example`;
    line(['docs/folder', folderId], 'workspace', ['workspace', workspaceId]);
    line(['docs/folder', folderId], 'viewer', ['user', ownerId]);
    for (let document = 0; document < DOCUMENTS_PER_FOLDER; document += 1) {
      const documentId = `/folders/${folder}/notes-${document}.md`;
      line(['docs/document', documentId], 'folder', ['docs/folder', folderId]);
      line(['docs/document', documentId], 'owner', ['user', ownerId]);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function moduleImportLines(result: ModuleImport): string[] {
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  const met = result.firstSeconds < MODULE_IMPORT_AIM_SECONDS ? 'met' : 'MISSED';
  return [
    `(p) import of ${result.relationships} docs relationships through the CLI (boot included): ${result.firstSeconds.toFixed(1)} s ` +
      `(${(result.relationships / result.firstSeconds).toFixed(0)}/s; aim < ${MODULE_IMPORT_AIM_SECONDS} s: ${met}); "${result.firstOutput}"`,
    `(p) the same file again: ${result.againSeconds.toFixed(1)} s; "${result.againOutput}"`,
    `(p) load average (1/5/15 min) before ${load(result.loadBefore)}, after ${load(result.loadAfter)}`,
  ];
}
