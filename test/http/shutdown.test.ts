import { once } from 'node:events';
import { connect } from 'node:net';
import test from 'ava';
import { makeServiceAccount, makeUser, newSignup } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

test('stopping closes connections with no request at once, while a request in flight completes', async (t) => {
  // A real password cost, so the signup is still hashing when the stop begins.
  const service = await startTestService({ environment: { PASSWORD_HASH_COST: '16' } });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : service.stop()));
  const { port, hostname } = new URL(service.url);

  // A browser's preconnect: a connection that never sends a request.
  const idle = connect(Number(port), hostname);
  await once(idle, 'connect');
  const idleClosed = once(idle, 'close');

  const signup = service.send('POST', '/api/v1/auth/email/signup', newSignup());
  await new Promise((resolve) => setTimeout(resolve, 150));
  const stopping = service.stop().then(() => (stopped = true));

  await idleClosed;
  t.false(stopped, 'the idle connection did not wait for the in-flight request');
  const response = await signup;
  t.is(response.status, 201);
  t.is(response.headers.get('connection'), 'close');
  await stopping;
  t.true(stopped);
});

// The embedded SpiceDB's dispose blocks until the clients of its streaming proxy hang up: a
// connection left open by a lookup once held every stop for ~6 s. Closing is synchronous, so
// its duration is the whole of it; the bound is a sixth of that old wait, far above the
// milliseconds it takes. Serial: its service's boot would compete with the timing of the
// in-flight request above.
test.serial('after lookups and a relationship read, SpiceDB closes in under a second', async (t) => {
  const service = await startTestService();
  let closed = false;
  t.teardown(() => (closed ? undefined : service.stop()));
  const user = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const asService = { Authorization: `Bearer ${key}` };
  const lookedUp = await service.send(
    'POST',
    '/api/v1/authz/lookup-resources',
    { resource_type: 'workspace', permission: 'view', subject: { type: 'user', id: user.id } },
    asService,
  );
  t.deepEqual(((await lookedUp.json()) as { resource_ids: string[] }).resource_ids, [user.workspaceId]);
  const subjects = await service.send(
    'POST',
    '/api/v1/authz/lookup-subjects',
    { resource: { type: 'workspace', id: user.workspaceId }, permission: 'view', subject_type: 'user' },
    asService,
  );
  t.is(subjects.status, 200);
  t.true((await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: user.workspaceId })).length > 0);

  const started = performance.now();
  service.spicedb.close();
  const elapsed = performance.now() - started;
  t.true(elapsed < 1_000, `closing SpiceDB took ${Math.round(elapsed)} ms`);
  await service.stop();
  closed = true;
});
