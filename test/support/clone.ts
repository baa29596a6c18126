import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { removeEmbeddedPostgresData } from '../../src/db/embedded-postgres.ts';

/**
 * The working tree as a fresh clone would have it (uncommitted edits included, so the code under
 * test is the code in front of you), in a new mode-700 folder that the test's end removes, with
 * any embedded PostgreSQL data made in it. With `nodeModules`, node_modules is hard-linked (as
 * after `npm ci`, in a second), not symlinked: a symlink would leave the PostgreSQL binaries
 * outside the private folder. Its .package-lock.json, which `npm install` rewrites in place, is
 * copied instead, so an install in the clone never writes into this tree.
 */
export function cloneWorkingTree(t: ExecutionContext, options: { nodeModules?: boolean } = {}): string {
  const folder = realpathSync(mkdtempSync(path.join(tmpdir(), 'tenant-authz-clone-')));
  const clone = path.join(folder, 'tenant-authz');
  t.teardown(() => {
    removeEmbeddedPostgresData(path.join(clone, '.data'));
    rmSync(folder, { recursive: true, force: true });
  });
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  for (const file of files.split('\0').filter((name) => name !== '' && existsSync(name))) {
    mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    copyFileSync(file, path.join(clone, file));
  }
  if (options.nodeModules) {
    execFileSync('cp', ['-al', path.resolve('node_modules'), clone]);
    const npmRecord = path.join(clone, 'node_modules', '.package-lock.json');
    if (existsSync(npmRecord)) {
      rmSync(npmRecord);
      copyFileSync(path.resolve('node_modules', '.package-lock.json'), npmRecord);
    }
  }
  return clone;
}
