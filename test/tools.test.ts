import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';

/**
 * Runs bash with scripts/tools.sh's functions defined (sourced, so nothing is installed). With
 * --norc: its stdin is a socket, and bash would take that for a remote shell and read ~/.bashrc.
 */
async function withTools(script: string, options: { input?: string; environment?: Record<string, string> } = {}) {
  const bash = spawn('bash', ['--norc', '-c', `source scripts/tools.sh\n${script}`], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.environment },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  bash.stdin.end(options.input ?? '');
  const [code] = (await once(bash, 'close')) as [number | null];
  return { code, stdout, stderr };
}

test('a Go build says how far it is, what Go’s build cache spared, and passes on anything that is not a package', async (t) => {
  const goBuildOutput = ['runtime', 'github.com/authzed/spicedb/pkg/a', '# github.com/authzed/spicedb/pkg/b', 'b.go:3:1: syntax error', 'github.com/authzed/spicedb/cmd/spicedb'];
  const { code, stderr } = await withTools('PROGRESS_SECONDS=0 report_progress spicedb 10 "$SECONDS"', { input: `${goBuildOutput.join('\n')}\n` });
  t.is(code, 0);
  const lines = stderr.trim().split('\n');
  t.true(lines.includes('# github.com/authzed/spicedb/pkg/b'));
  t.true(lines.includes('b.go:3:1: syntax error'));
  t.regex(stderr, /^spicedb: 0 min \d+ s, 2 of at most 10 packages compiled$/m);
  t.is(lines.at(-1), "spicedb: compiled 3 packages (the other 7 came from Go's build cache)");
});

test('a tool already built at its pinned version is reused without Go; another version is built again', async (t) => {
  const tools = mkdtempSync(path.join(tmpdir(), 'tenant-authz-tools-'));
  t.teardown(() => rmSync(tools, { recursive: true, force: true }));
  writeFileSync(path.join(tools, 'spicedb'), '#!/bin/sh\n');
  chmodSync(path.join(tools, 'spicedb'), 0o755);
  // No Go on this PATH: a build would fail at once.
  const environment = { TENANT_AUTHZ_TOOLS: tools, PATH: '/usr/bin:/bin' };

  writeFileSync(path.join(tools, '.spicedb.version'), 'v1.56.2\n');
  const reused = await withTools('install_spicedb', { environment });
  t.is(reused.code, 0);
  t.regex(reused.stderr, /spicedb v1\.56\.2: reusing/);

  writeFileSync(path.join(tools, '.spicedb.version'), 'v1.50.0\n');
  const rebuilt = await withTools('install_spicedb', { environment });
  t.not(rebuilt.code, 0);
  t.regex(rebuilt.stderr, /go: command not found/);
});

test("zed is built against the server's SpiceDB release, so it reuses what the spicedb build compiled", async (t) => {
  const { stdout } = await withTools('go_build() { echo "$@"; }\ninstall_spicedb\ninstall_zed');
  const [spicedb = '', zed = ''] = stdout.trim().split('\n');
  const spicedbRelease = /github\.com\/authzed\/spicedb@\S+/.exec(spicedb)?.[0];
  t.truthy(spicedbRelease);
  t.true(zed.split(' ').includes(spicedbRelease ?? ''), zed);
});
