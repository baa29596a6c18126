import test from 'ava';
import { as, signUp } from '../support/factories.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

let service: TestService;
test.before(async () => {
  // One hash at a time and two waiting: a burst of logins overflows at once.
  service = await startTestService({ environment: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '2' } });
});
test.after.always(async () => {
  await service?.stop();
});

test('a flood of correct logins past the hashing queue answers 503 with Retry-After, never an error or a timeout, while other routes answer', async (t) => {
  const flooder = await signUp(service);
  const bystander = await signUp(service);
  const login = () =>
    service.send('POST', '/api/v1/auth/email/login', { email: flooder.email, password: flooder.password });
  const [responses, bystanderStatus] = await Promise.all([
    Promise.all(Array.from({ length: 40 }, login)),
    as(service, bystander).get(`/api/v1/orgs/${bystander.organizationId}`).then((response) => response.status),
  ]);
  const statuses = responses.map((response) => response.status);
  t.true(statuses.includes(200), 'some logins got through');
  t.true(statuses.includes(503), 'the rest were turned away');
  t.deepEqual([...new Set(statuses)].sort(), [200, 503]);
  for (const response of responses.filter((candidate) => candidate.status === 503)) {
    t.is(response.headers.get('retry-after'), '1');
    t.is(response.headers.get('content-type'), 'application/problem+json');
  }
  t.is(bystanderStatus, 200);
  // Turned-away attempts are no failures: the account is not throttled afterwards.
  t.is((await login()).status, 200);
});
