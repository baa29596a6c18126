import test, { type ExecutionContext } from 'ava';
import { embeddedPostgresAnswers } from '../src/db/embedded-postgres.ts';
import { cloneWorkingTree } from './support/clone.ts';
import { newSignup } from './support/factories.ts';
import type { SessionBody } from './support/responses.ts';
import { freePort, startMain, waitUntilReady } from './support/processes.ts';

// The issue these tests pin down: as root, PostgreSQL runs as the `postgres` OS user, which cannot
// enter a folder only its owner may (mktemp -d, anything under /root), so neither the binaries in
// node_modules nor .data/ were reachable. As a normal user they take the ordinary path and pass.
const RUNNING_AS_ROOT = process.getuid?.() === 0;
const asRoot = RUNNING_AS_ROOT ? test : test.skip;

/** A clone in an owner-only folder (cloneWorkingTree), and which path its embedded PostgreSQL takes. */
function cloneIntoPrivateFolder(t: ExecutionContext): string {
  const clone = cloneWorkingTree(t, { nodeModules: true });
  t.log(
    RUNNING_AS_ROOT
      ? 'running as root: the embedded PostgreSQL runs as the postgres OS user'
      : 'not running as root: the embedded PostgreSQL takes the ordinary path (data in .data/)',
  );
  return clone;
}

/** `npm start` in the clone with nothing configured but its ports (embedded PostgreSQL and SpiceDB), once /readyz answers 200. */
async function startClone(t: ExecutionContext, clone: string) {
  const port = await freePort();
  const postgresPort = await freePort();
  const main = startMain({ PORT: String(port), EMBEDDED_POSTGRES_PORT: String(postgresPort) }, clone);
  // A failed assertion must not leave the service (and its PostgreSQL) running.
  t.teardown(async () => {
    main.child.kill('SIGTERM');
    const timer = setTimeout(() => main.child.kill('SIGKILL'), 15_000);
    await main.exited;
    clearTimeout(timer);
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${base}/readyz`, main.exited).catch((error: unknown) => {
    throw new Error(`${String(error)}; stderr: ${main.stderr()}`);
  });
  return {
    send: async (method: string, route: string, body?: unknown, token?: string) =>
      fetch(`${base}/api/v1${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    /** SIGTERM, as a supervisor stops it: the process exits 0 and its PostgreSQL with it. */
    stop: async () => {
      main.child.kill('SIGTERM');
      t.is(await main.exited, 0, main.stderr());
      t.is(await embeddedPostgresAnswers(postgresPort), undefined, 'the embedded PostgreSQL stopped too');
    },
  };
}

// One clone for both halves: each boot costs seconds of CPU, shared with the rest of the suite.
test('`npm start` in a fresh clone inside an owner-only folder serves signups even as root, and a restart finds the same users, organizations and relationships', async (t) => {
  const clone = cloneIntoPrivateFolder(t);
  const credentials = newSignup();

  const first = await startClone(t, clone);
  const signup = await first.send('POST', '/auth/email/signup', credentials);
  t.is(signup.status, 201);
  const owner = (await signup.json()) as SessionBody;
  const created = await first.send('POST', '/orgs', { name: 'Acme' }, owner.access_token);
  t.is(created.status, 200);
  const { id: organizationId } = (await created.json()) as { id: string };
  await first.stop();

  const second = await startClone(t, clone);
  const login = await second.send('POST', '/auth/email/login', { email: credentials.email, password: credentials.password });
  t.is(login.status, 200, 'the user is still there');
  const { access_token: token } = (await login.json()) as SessionBody;
  const listed = (await (await second.send('GET', '/orgs', undefined, token)).json()) as Array<{ id: string }>;
  t.true(
    listed.some((organization) => organization.id === organizationId),
    'the organization is still there',
  );
  const fetched = await second.send('GET', `/orgs/${organizationId}`, undefined, token);
  t.is(fetched.status, 200, "the owner's SpiceDB relationship is back, so reading the organization is allowed");
  await second.stop();
});

asRoot('as root, with no postgres OS user to be found or created, `npm start` stops with one line and exit 78', async (t) => {
  const clone = cloneIntoPrivateFolder(t);
  // No PATH: neither `id` nor `useradd` can run, as on an image without user tools.
  const main = startMain({ PATH: '', PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(await freePort()) }, clone);
  t.teardown(() => main.child.kill('SIGKILL'));

  t.is(await main.exited, 78);
  const lines = main.stderr().trim().split('\n');
  t.is(lines.length, 1);
  t.regex(lines[0] ?? '', /"postgres" OS user.*set DATABASE_URL .*or run as a normal user/);
});
