import test from 'ava';
import { makeUser } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

const WINDOW_SECONDS = 2;
const service = useTestService(test, {
  environment: {
    LOGIN_MAX_FAILURES_PER_EMAIL: '3',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '6',
    LOGIN_THROTTLE_WINDOW_SECONDS: String(WINDOW_SECONDS),
    // Client addresses come from X-Forwarded-For, as behind a load balancer.
    TRUST_PROXY: 'true',
  },
});

let nextAddress = 1;
const freshAddress = () => `198.51.100.${nextAddress++}`;

function login(email: string, password: string, address: string) {
  return service.send('POST', '/api/v1/auth/email/login', { email, password }, { 'X-Forwarded-For': address });
}

test('repeated failures for one account, even from different addresses, answer 429 with Retry-After, then release', async (t) => {
  const user = await makeUser(service);
  for (let attempt = 0; attempt < 3; attempt++) {
    t.is((await login(user.email, 'wrong-password', freshAddress())).status, 401);
  }
  const throttled = await login(user.email, user.password, freshAddress());
  t.is(throttled.status, 429, 'even the right password waits');
  t.is(throttled.headers.get('content-type'), 'application/problem+json');
  const retryAfter = Number(throttled.headers.get('retry-after'));
  t.true(retryAfter >= 1 && retryAfter <= WINDOW_SECONDS);

  await new Promise((resolve) => setTimeout(resolve, (WINDOW_SECONDS + 0.5) * 1000));
  t.is((await login(user.email, user.password, freshAddress())).status, 200, 'the throttle releases after the window');
});

test('repeated failures from one client address answer 429 for any account', async (t) => {
  const address = freshAddress();
  for (let attempt = 0; attempt < 6; attempt++) {
    const stranger = `nobody-${attempt}-${Date.now()}@example.com`;
    t.is((await login(stranger, 'wrong-password', address)).status, 401);
  }
  const user = await makeUser(service);
  t.is((await login(user.email, user.password, address)).status, 429);
  t.is((await login(user.email, user.password, freshAddress())).status, 200, 'other addresses are not affected');
});

test('a successful login forgets the account’s earlier failures', async (t) => {
  const user = await makeUser(service);
  for (let round = 0; round < 2; round++) {
    t.is((await login(user.email, 'wrong-password', freshAddress())).status, 401);
    t.is((await login(user.email, 'wrong-password', freshAddress())).status, 401);
    t.is((await login(user.email, user.password, freshAddress())).status, 200);
  }
});

test('a burst of parallel wrong guesses cannot exceed the account limit', async (t) => {
  const user = await makeUser(service);
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () => login(user.email, 'wrong-password', freshAddress()).then((response) => response.status)),
  );
  t.is(statuses.filter((status) => status === 401).length, 3, 'only three guesses were checked');
  t.is(statuses.filter((status) => status === 429).length, 5);
});
