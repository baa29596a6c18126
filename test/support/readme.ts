import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { embeddedPostgresAnswers } from '../../src/db/embedded-postgres.ts';
import { cloneWorkingTree } from './clone.ts';
import { freePort } from './processes.ts';

/**
 * The shell blocks of a Markdown page, run as a reader runs them: in order, pasted into one
 * terminal. A block is a fence whose language is sh, bash or shell; the line just above its
 * opening fence may say how a reader uses it:
 *
 *   <!-- readme-test: skip, <why> -->   not run: it needs what a test run does not have (Docker,
 *                                        Go, a second machine) or is a reference with placeholders
 *   <!-- readme-test: background -->    runs in a terminal of its own (a server): the blocks
 *                                        after it run beside it, and it is stopped with Ctrl-C
 *                                        (SIGINT) once they are done
 *
 * Every other block runs, and must work after the ones before it.
 */

export type BlockMode = 'run' | 'background' | 'skip';

export interface ShellBlock {
  /** The line of the opening fence, from 1. */
  line: number;
  code: string;
  mode: BlockMode;
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const MARK = /^<!--\s*readme-test:\s*(skip|background)\b.*-->\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = FENCE.exec(lines[index] ?? '');
    if (!opening) continue;
    const [, fence = '', language = ''] = opening;
    let end = index + 1;
    while (end < lines.length && !(lines[end] ?? '').trimStart().startsWith(fence)) end++;
    if (SHELL_LANGUAGES.has(language)) {
      const mark = MARK.exec(lines[index - 1] ?? '')?.[1] as BlockMode | undefined;
      blocks.push({ line: index + 1, code: lines.slice(index + 1, end).join('\n'), mode: mark ?? 'run' });
    }
    index = end;
  }
  return blocks;
}

export interface BlocksRun {
  /** bash's exit code: 0 when every block worked. */
  code: number | null;
  /** What the blocks printed, but the background ones: the second terminal. */
  stdout: string;
  stderr: string;
  /** What each background block printed, as its own terminal would show it. */
  background: string[];
  /** The block that was running when the run ended (the failing one, if it failed). */
  last: ShellBlock | undefined;
}

const BLOCK_MARKER = '::readme-block ';

/**
 * One bash script of the blocks: `set -e -o pipefail`, so the first command that fails ends the
 * run; job control, so each background block is a process group that SIGINT stops whole, as
 * Ctrl-C stops a terminal's (npm, the shell it starts, the service).
 */
function scriptOf(blocks: ShellBlock[], logFolder: string): string {
  const lines = [
    'set -e -o pipefail',
    'set -m',
    'background=()',
    'stop_background() {',
    '  local status=$?',
    '  for job in "${background[@]}"; do kill -INT -- "-$job" 2>/dev/null || true; done',
    '  for job in "${background[@]}"; do wait "$job" || true; done',
    '  exit "$status"',
    '}',
    'trap stop_background EXIT',
    "trap 'exit 143' TERM",
  ];
  blocks.forEach((block, index) => {
    if (block.mode === 'skip') return;
    lines.push(`echo '${BLOCK_MARKER}${index}' >&2`);
    if (block.mode === 'background') lines.push('{', block.code, `} > '${logFolder}/${index}.log' 2>&1 &`, 'background+=($!)');
    else lines.push(block.code);
  });
  return `${lines.join('\n')}\n`;
}

export async function runShellBlocks(
  blocks: ShellBlock[],
  options: { cwd: string; environment: Record<string, string>; timeoutMs: number },
): Promise<BlocksRun> {
  const logFolder = mkdtempSync(path.join(tmpdir(), 'readme-background-'));
  // --norc: bash reads ~/.bashrc when it takes a socket on stdio for a remote shell; the blocks
  // see only the environment given.
  const bash = spawn('bash', ['--norc', '-c', scriptOf(blocks, logFolder)], { cwd: options.cwd, env: options.environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Past the deadline, TERM: the EXIT trap still stops the background blocks.
  const deadline = setTimeout(() => bash.kill('SIGTERM'), options.timeoutMs);
  const [code] = (await once(bash, 'close')) as [number | null];
  clearTimeout(deadline);
  const started = [...stderr.matchAll(new RegExp(`^${BLOCK_MARKER}(\\d+)$`, 'gm'))].at(-1)?.[1];
  const background = blocks.flatMap((block, index) =>
    block.mode === 'background' ? [readFileSync(path.join(logFolder, `${index}.log`), { encoding: 'utf8', flag: 'a+' })] : [],
  );
  rmSync(logFolder, { recursive: true, force: true });
  return { code, stdout, stderr, background, last: started === undefined ? undefined : blocks[Number(started)] };
}

/**
 * Runs `blocks` from a page of this repository in a fresh clone, as a newcomer would, against
 * the service its blocks start (`npm start` with nothing configured). The one change to the
 * blocks: README's port, localhost:8080, becomes a free port, which the service gets as PORT;
 * its embedded PostgreSQL gets a free EMBEDDED_POSTGRES_PORT, so runs side by side do not meet.
 * Fails the test if that PostgreSQL outlives the run.
 */
export async function runInFreshClone(t: ExecutionContext, blocks: ShellBlock[]): Promise<BlocksRun> {
  const clone = cloneWorkingTree(t, { nodeModules: true });
  const [port, postgresPort] = [await freePort(), await freePort()];
  const environment: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(process.env.TENANT_AUTHZ_TOOLS && { TENANT_AUTHZ_TOOLS: process.env.TENANT_AUTHZ_TOOLS }),
    PORT: String(port),
    EMBEDDED_POSTGRES_PORT: String(postgresPort),
  };
  const onFreePort = blocks.map((block) => ({ ...block, code: block.code.replaceAll('localhost:8080', `localhost:${port}`) }));
  const run = await runShellBlocks(onFreePort, { cwd: clone, environment, timeoutMs: 8 * 60_000 });
  if (run.code !== 0) {
    t.log(`bash exited ${run.code} in the block at line ${run.last?.line}:\n${run.last?.code}`);
    t.log(`stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nbackground:\n${run.background.join('\n')}`);
  }
  t.is(await embeddedPostgresAnswers(postgresPort), undefined, 'the service the blocks started stopped, and its PostgreSQL with it');
  return run;
}
