import { once } from 'node:events';
import { connect } from 'node:net';
import test from 'ava';
import { newSignup } from '../support/factories.ts';
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
