import test from 'ava';
import { as, makeUser, newSignup, signUp } from '../support/factories.ts';
import { passwordHashes } from '../support/metrics.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

const SIGNUPS_PER_ADDRESS = 3;
let service: TestService;
test.before(async () => {
  service = await startTestService({
    environment: {
      // One hash at a time and two waiting in each lane: a burst overflows at once. Each hash takes
      // long enough (cost 14, 16 MiB) that a burst's requests are all in flight together.
      PASSWORD_HASH_COST: '14',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '2',
      PASSWORD_HASH_PER_ACCOUNT: '2',
      PASSWORD_HASH_PER_ADDRESS: '2',
      SIGNUP_MAX_PER_ADDRESS: String(SIGNUPS_PER_ADDRESS),
      // The failure buckets are login-throttle.test.ts's subject; here they stay out of the way.
      LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '1000',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
      // Each request says its client address in X-Forwarded-For.
      TRUST_PROXY: 'true',
    },
  });
});
test.after.always(async () => {
  await service?.stop();
});

// The tests share one hashing queue, so they run one at a time.
let nextAddress = 1;
const freshAddress = () => `198.51.${nextAddress >> 8}.${nextAddress++ & 255}`;

function login(body: { email: string; password: string; device_token?: string }, address: string) {
  return service.send('POST', '/api/v1/auth/email/login', body, { 'X-Forwarded-For': address });
}

function signup(input: ReturnType<typeof newSignup>, address: string) {
  return service.send('POST', '/api/v1/auth/email/signup', input, { 'X-Forwarded-For': address });
}

/** A user signed up from `address`, with the device token signup answered. */
async function signUpFrom(address: string) {
  const input = newSignup();
  const response = await signup(input, address);
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const { device_token: deviceToken } = (await response.json()) as { device_token: string };
  return { ...input, deviceToken };
}

const wrongPassword = (email: string) => ({ email, password: 'wrong-password-1' });
const countOf = (statuses: number[], status: number) => statuses.filter((candidate) => candidate === status).length;

test.serial('a flood of logins past the hashing queue answers 503 with Retry-After, never an error or a timeout, while other routes answer', async (t) => {
  const flooders = [];
  // One after another: each is a hash, and the queue holds three.
  for (let user = 0; user < 40; user++) flooders.push(await makeUser(service));
  const bystander = await signUp(service);
  const [responses, bystanderStatus] = await Promise.all([
    Promise.all(flooders.map((flooder) => login({ email: flooder.email, password: flooder.password }, freshAddress()))),
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
  // Turned-away attempts are no failures: the accounts are not throttled afterwards.
  const [first] = flooders;
  if (first) t.is((await login({ email: first.email, password: first.password }, freshAddress())).status, 200);
});

test.serial('one account holds at most its share of password checks: the rest answer 429 with Retry-After at once, and are never hashed', async (t) => {
  const target = await makeUser(service);
  const verificationsBefore = await passwordHashes(service, 'verify');
  const responses = await Promise.all(Array.from({ length: 20 }, () => login(wrongPassword(target.email), freshAddress())));
  const statuses = responses.map((response) => response.status);
  t.deepEqual([...new Set(statuses)].sort(), [401, 429], 'checked and wrong, or turned away; never 503');
  for (const response of responses.filter((candidate) => candidate.status === 429)) t.is(response.headers.get('retry-after'), '1');
  t.is((await passwordHashes(service, 'verify')) - verificationsBefore, countOf(statuses, 401), 'only the attempts that answered 401 were hashed');
});

test.serial('one address holds at most its share of password checks, whatever accounts it names: the rest answer 429 at once, unhashed', async (t) => {
  const address = freshAddress();
  const verificationsBefore = await passwordHashes(service, 'verify');
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, index) => login(wrongPassword(`sprayed-${index}-${Date.now()}@example.com`), address)),
  );
  const statuses = responses.map((response) => response.status);
  t.deepEqual([...new Set(statuses)].sort(), [401, 429]);
  t.is((await passwordHashes(service, 'verify')) - verificationsBefore, countOf(statuses, 401));
});

test.serial("during a flood from other addresses, an account's known clients sign in and never answer 503", async (t) => {
  const home = freshAddress();
  const owner = await signUpFrom(home);
  const traveller = await signUpFrom(freshAddress());
  let flooding = true;
  const floodStatuses: number[] = [];
  // Wrong passwords from 16 addresses, half at the owner's account, half at accounts that do not exist.
  const flood = Array.from({ length: 16 }, async (_, index) => {
    const address = freshAddress();
    const email = index % 2 === 0 ? owner.email : `stuffed-${index}-${Date.now()}@example.com`;
    while (flooding) floodStatuses.push((await login(wrongPassword(email), address)).status);
  });
  const ownerStatuses: number[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      // From the address it signed up from, and from a new address with the device token signup gave.
      ownerStatuses.push((await login({ email: owner.email, password: owner.password }, home)).status);
      const withToken = { email: traveller.email, password: traveller.password, device_token: traveller.deviceToken };
      ownerStatuses.push((await login(withToken, freshAddress())).status);
    }
  } finally {
    flooding = false;
    await Promise.all(flood);
  }
  t.true(countOf(floodStatuses, 503) > 0, 'the flood filled the open lane of the hashing queue');
  t.deepEqual(ownerStatuses, Array.from({ length: 6 }, () => 200));
});

test.serial('a signup with a taken email or username is refused with no hashing, and a flood of them keeps no one from signing in', async (t) => {
  const existing = await makeUser(service);
  const bystander = await signUpFrom(freshAddress());
  const hashesBefore = await passwordHashes(service, 'hash');
  const [taken, bystanderStatus] = await Promise.all([
    Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        signup(newSignup(index % 2 === 0 ? { email: existing.email } : { username: existing.username }), freshAddress()),
      ),
    ),
    login({ email: bystander.email, password: bystander.password, device_token: bystander.deviceToken }, freshAddress()),
  ]);
  t.deepEqual([...new Set(taken.map((response) => response.status))], [409]);
  t.is((await passwordHashes(service, 'hash')) - hashesBefore, 0, 'no password was hashed for them');
  t.is(bystanderStatus.status, 200);
});

test.serial('signups are limited per address in the throttle window: 429 with Retry-After past the limit, other addresses unaffected', async (t) => {
  const address = freshAddress();
  const statuses: number[] = [];
  for (let attempt = 0; attempt <= SIGNUPS_PER_ADDRESS; attempt++) statuses.push((await signup(newSignup(), address)).status);
  t.deepEqual(statuses, [...Array.from({ length: SIGNUPS_PER_ADDRESS }, () => 201), 429]);
  const refused = await signup(newSignup(), address);
  t.is(refused.status, 429);
  t.true(Number(refused.headers.get('retry-after')) >= 1);
  t.is(refused.headers.get('content-type'), 'application/problem+json');
  t.is((await signup(newSignup(), freshAddress())).status, 201);
});
