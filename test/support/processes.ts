import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs src/main.ts as `npm start` does, in `cwd` (the repository), with only the given environment (plus PATH). */
export function startMain(environment: Record<string, string>, cwd = process.cwd()) {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

/**
 * Polls until `url` answers 200; throws if the process exits first or it never does. Two minutes:
 * a boot on a loaded two-core machine, beside the rest of the suite, has taken past 30 s.
 */
export async function waitUntilReady(url: string, exited: Promise<unknown>): Promise<Response> {
  let finished = false;
  void exited.then(() => (finished = true));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !finished) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === 200) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200`);
}
