import test, { type ExecutionContext } from 'ava';
import { newSignup, signUp } from '../support/factories.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

// Far longer than any test's attempts take, even on a loaded machine: no failure leaves the window
// while a test counts on it. The test of the window's end has a service of its own.
const WINDOW_SECONDS = 600;
const SHORT_WINDOW_SECONDS = 20;
const throttled = (windowSeconds: number): NodeJS.ProcessEnv => ({
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '6',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '8',
  LOGIN_THROTTLE_WINDOW_SECONDS: String(windowSeconds),
  // Client addresses come from X-Forwarded-For, behind two proxies.
  TRUST_PROXY: 'true',
  TRUST_PROXY_HOPS: '2',
});
let service: TestService;
test.before(async () => {
  service = await startTestService({ environment: throttled(WINDOW_SECONDS) });
});
test.after.always(async () => {
  await service?.stop();
});

let nextAddress = 1;
const freshAddress = () => `198.51.${nextAddress >> 8}.${nextAddress++ & 255}`;

/** As the two proxies send it: whatever the client wrote, then the client's address, then the first proxy's. */
function forwardedFor(address: string, clientWrote?: string) {
  return { 'X-Forwarded-For': [clientWrote, address, '10.0.0.1'].filter(Boolean).join(', ') };
}

function login(email: string, password: string, address: string, clientWrote?: string, target = service) {
  return target.send('POST', '/api/v1/auth/email/login', { email, password }, forwardedFor(address, clientWrote));
}

function loginWithDevice(email: string, password: string, address: string, deviceToken: string) {
  return service.send('POST', '/api/v1/auth/email/login', { email, password, device_token: deviceToken }, forwardedFor(address));
}

/** An owner signed up from their home address, holding the device token signup gave them. */
async function owner() {
  const input = newSignup();
  const home = freshAddress();
  const response = await service.send('POST', '/api/v1/auth/email/signup', input, forwardedFor(home));
  if (response.status !== 201) throw new Error(`signup answered ${response.status}`);
  const { device_token: deviceToken } = (await response.json()) as { device_token: string };
  return { ...input, home, deviceToken };
}

/** Strangers, each from an address the account never signed in from, until the per-account limit (6) is full. */
async function lockOutStrangers(t: ExecutionContext, email: string): Promise<void> {
  for (let stranger = 0; stranger < 3; stranger++) {
    const address = freshAddress();
    for (let attempt = 0; attempt < 2; attempt++) t.is((await login(email, 'wrong-password', address)).status, 401);
  }
  t.is((await login(email, 'wrong-password', freshAddress())).status, 429, 'the account is throttled for unknown clients');
}

test('failures from one address lock that address out of the account; the owner elsewhere still signs in', async (t) => {
  const user = await signUp(service);
  const attacker = freshAddress();
  for (let attempt = 0; attempt < 3; attempt++) t.is((await login(user.email, 'wrong-password', attacker)).status, 401);
  const throttled = await login(user.email, user.password, attacker);
  t.is(throttled.status, 429, 'even the right password waits, from that address');
  t.is(throttled.headers.get('content-type'), 'application/problem+json');
  const retryAfter = Number(throttled.headers.get('retry-after'));
  t.true(retryAfter >= 1 && retryAfter <= WINDOW_SECONDS);
  t.is((await login(user.email, user.password, freshAddress())).status, 200, 'the owner, from an address with no failures');
});

test('the throttle releases once the failures leave the window', async (t) => {
  const shortWindow = await startTestService({ environment: throttled(SHORT_WINDOW_SECONDS) });
  t.teardown(() => shortWindow.stop());
  const user = await signUp(shortWindow);
  const attacker = freshAddress();
  for (let attempt = 0; attempt < 3; attempt++) t.is((await login(user.email, 'wrong-password', attacker, undefined, shortWindow)).status, 401);
  t.is((await login(user.email, user.password, attacker, undefined, shortWindow)).status, 429);
  await new Promise((resolve) => setTimeout(resolve, (SHORT_WINDOW_SECONDS + 0.5) * 1000));
  t.is((await login(user.email, user.password, attacker, undefined, shortWindow)).status, 200);
});

test('failures for one account from many addresses reach the higher per-account limit', async (t) => {
  const user = await signUp(service);
  for (let attempt = 0; attempt < 6; attempt++) t.is((await login(user.email, 'wrong-password', freshAddress())).status, 401);
  t.is((await login(user.email, user.password, freshAddress())).status, 429);
});

test('the per-address limit counts failures only: successful logins from a shared address do not lock it', async (t) => {
  const shared = freshAddress();
  for (let user = 0; user < 10; user++) {
    const colleague = await signUp(service);
    t.is((await login(colleague.email, colleague.password, shared)).status, 200);
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    t.is((await login(`nobody-${attempt}-${Date.now()}@example.com`, 'wrong-password', shared)).status, 401);
  }
  const user = await signUp(service);
  t.is((await login(user.email, user.password, shared)).status, 429, 'eight failures lock the address');
  t.is((await login(user.email, user.password, freshAddress())).status, 200, 'other addresses are not affected');
});

test('the throttle counts the address the proxies saw, not one the client wrote into X-Forwarded-For', async (t) => {
  const user = await signUp(service);
  const attacker = freshAddress();
  for (let attempt = 0; attempt < 3; attempt++) {
    // A different forged left-most entry every time: it must not give the attacker a fresh bucket.
    t.is((await login(user.email, 'wrong-password', attacker, `203.0.113.${attempt}`)).status, 401);
  }
  t.is((await login(user.email, user.password, attacker, '203.0.113.200')).status, 429);
});

test('a successful login forgets that address’s earlier failures for the account', async (t) => {
  const user = await signUp(service);
  const address = freshAddress();
  for (let round = 0; round < 2; round++) {
    t.is((await login(user.email, 'wrong-password', address)).status, 401);
    t.is((await login(user.email, 'wrong-password', address)).status, 401);
    t.is((await login(user.email, user.password, address)).status, 200);
  }
});

test('a burst of parallel wrong guesses from one address cannot exceed its limit', async (t) => {
  const user = await signUp(service);
  const address = freshAddress();
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () => login(user.email, 'wrong-password', address).then((response) => response.status)),
  );
  t.is(statuses.filter((status) => status === 401).length, 3, 'only three guesses were checked');
  t.is(statuses.filter((status) => status === 429).length, 5);
});

test("strangers' failures from addresses the account never signed in from do not stop its owner, from an address it signed in from", async (t) => {
  const user = await owner();
  await lockOutStrangers(t, user.email);
  t.is((await login(user.email, user.password, freshAddress())).status, 429, 'a new address without a device token still waits');
  t.is((await login(user.email, user.password, user.home)).status, 200, 'the owner, from home');
});

test("strangers' failures do not stop a client holding the device token an earlier sign-in gave it, from any address", async (t) => {
  const user = await owner();
  await lockOutStrangers(t, user.email);
  t.is((await loginWithDevice(user.email, user.password, freshAddress(), 'not-a-device-token-of-ours')).status, 429, 'a made-up token is no token');
  const traveller = await loginWithDevice(user.email, user.password, freshAddress(), user.deviceToken);
  t.is(traveller.status, 200, 'the owner, travelling, with their device token');
  t.is(((await traveller.json()) as { device_token: string }).device_token, user.deviceToken, 'a known token is kept');

  const other = await owner();
  await lockOutStrangers(t, other.email);
  t.is((await loginWithDevice(other.email, other.password, freshAddress(), user.deviceToken)).status, 429, "one account's token does nothing for another");
});

test('a device token that guessed wrong too often no longer makes its holder known, and a login answers a new one', async (t) => {
  const user = await owner();
  // A thief's guesses with the stolen token, each from another address: the token's bucket (3) fills,
  // and so, with three more failures from strangers, does the account's (6).
  for (let attempt = 0; attempt < 3; attempt++) {
    t.is((await loginWithDevice(user.email, 'wrong-password', freshAddress(), user.deviceToken)).status, 401);
    t.is((await login(user.email, 'wrong-password', freshAddress())).status, 401);
  }
  t.is((await loginWithDevice(user.email, user.password, freshAddress(), user.deviceToken)).status, 429);
  const home = await login(user.email, user.password, user.home);
  t.is(home.status, 200, 'home still works');
  t.not(((await home.json()) as { device_token: string }).device_token, user.deviceToken, 'a login without the token gets a new one');
});
