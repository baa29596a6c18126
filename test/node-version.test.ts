import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { cloneWorkingTree } from './support/clone.ts';

/**
 * On a Node outside package.json's engines (this kind of machine's default is Node 20), the
 * README's first commands stop before anything else runs: `npm install` with npm's own
 * EBADENGINE (.npmrc engine-strict), the scripts with one line naming the version needed and the
 * command that gets it (scripts/require-node.cjs).
 */

const run = promisify(execFile);
const ENGINES = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
const GUARD_LINE = `tenant-authz needs Node ${ENGINES}, not `;
const GET_NODE = 'eval "$(bash scripts/tools.sh node)"';

/** The oldest major version engines admits: 24 for ">=24.18 <25". */
const REQUIRED_MAJOR = Number(/\d+/.exec(ENGINES)?.[0]);

/** A Node older than engines admits, with its npm beside it, on PATH or where systems keep one. */
function olderNode(): { bin: string; version: string } | undefined {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((folder) => path.join(folder, 'node'));
  for (const candidate of [...onPath, '/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate) || !existsSync(path.join(path.dirname(candidate), 'npm'))) continue;
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(/\d+/.exec(version)?.[0]) < REQUIRED_MAJOR) return { bin: path.dirname(candidate), version };
  }
  return undefined;
}

const older = olderNode();
const onOlderNode = older ? test : test.skip;

onOlderNode(`on ${older?.version ?? 'an older Node (none on this machine)'}, npm install, npm start, npm test and npm run cli stop at once, naming the Node needed`, async (t) => {
  if (!older) return;
  const clone = cloneWorkingTree(t);
  // That Node and its npm first, as on a machine whose default it is.
  const environment = { PATH: [older.bin, process.env.PATH].join(path.delimiter), HOME: process.env.HOME ?? '' };
  const npm = (...args: string[]) =>
    run('npm', args, { cwd: clone, env: environment }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
  const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));

  const install = await npm('install');
  t.not(install.code, 0);
  t.regex(install.stderr, /EBADENGINE/);
  t.true(install.stderr.includes(`Required: {"node":"${ENGINES}"}`), install.stderr);
  t.false(existsSync(path.join(clone, 'node_modules')), 'nothing was installed');

  for (const args of [['start'], ['test'], ['run', 'cli', '--', '--help']]) {
    const { code, stderr } = await npm(...args);
    t.is(code, 1, args.join(' '));
    t.deepEqual(ownLines(stderr), [`${GUARD_LINE}${older.version}: run  ${GET_NODE}  to put the pinned Node first on PATH in this shell, then try again`], args.join(' '));
  }
  t.false(existsSync(path.join(clone, '.data')), 'nothing started');
});

test('on the Node the suite runs on, the guard lets everything through', async (t) => {
  const { stdout, stderr } = await run(process.execPath, ['-r', './scripts/require-node.cjs', '-e', 'console.log("ran")']);
  t.is(stdout, 'ran\n');
  t.is(stderr, '');
});
