import test from 'ava';
import { openOrm } from '../../src/db/orm.ts';
import { ServiceAccountService } from '../../src/services/service-account.service.ts';
import { readPolicy } from '../../src/authz/policy-modules.ts';
import { createTestDatabase } from '../support/database.ts';
import { eventually } from '../support/eventually.ts';
import { bearer, makeServiceAccount, makeTenant, newSignup, uniqueName } from '../support/factories.ts';
import { freePort, startMain, waitUntilReady } from '../support/processes.ts';
import { seed } from '../support/seeding-services.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService, type TestService } from '../support/test-service.ts';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver.ts';

const withServer = canRunSpiceDbServer ? test : test.skip;

// Retries for about a minute (20 at most): a receiver down while a busy machine creates the
// events must not see the first of them given up before it is back.
const FAST_RETRIES = {
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  EVENTS_POLL_MS: '50',
  WEBHOOK_RETRY_SCHEDULE: ['300ms', '600ms', ...Array.from({ length: 6 }, () => '1s'), ...Array.from({ length: 12 }, () => '4s')].join(','),
};

async function register(service: TestService, key: string, url: string, settings: Record<string, unknown> = {}): Promise<string> {
  const response = await service.send('POST', '/api/v1/webhook-endpoints', { url, ...settings }, bearer(key));
  if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Each webhook-id received, with how many times. */
function receipts(received: ReceivedWebhook[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const webhook of received) {
    const id = String(webhook.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

async function teamsCreated(service: TestService, owner: { id: string; organizationId: string }, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await seed(service, ({ teams }) => teams.create(owner.id, owner.organizationId, { name: uniqueName('team') }));
  }
}

test('a receiver that is down for a while gets every event once it is back, each webhook-id once', async (t) => {
  const service = await startTestService({ environment: FAST_RETRIES });
  t.teardown(() => service.stop());
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  await register(service, key, receiver.url, { event_types: ['team'] });

  await receiver.down();
  await teamsCreated(service, tenant.owner, 10);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  t.deepEqual(receiver.received, [], 'nothing reached it while it was down');
  await receiver.up();
  await receiver.until((received) => receipts(received).size === 10);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.deepEqual([...receipts(receiver.received).values()], Array.from({ length: 10 }, () => 1));
});

withServer('two instances on one database deliver each event to an endpoint once', async (t) => {
  const spicedb = await startSpiceDbServer();
  t.teardown(() => spicedb.stop());
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const environment = { ...FAST_RETRIES, SPICEDB_ENDPOINT: spicedb.endpoint, SPICEDB_PRESHARED_KEY: spicedb.presharedKey, SPICEDB_INSECURE: 'true' };
  const first = await startTestService({ database, environment });
  const second = await startTestService({ database, environment });
  t.teardown(async () => {
    await first.stop();
    await second.stop();
  });
  const tenant = await makeTenant(first);
  const { key } = await makeServiceAccount(first, [], { organizationIds: [tenant.organizationId] });
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  // A slow receiver keeps deliveries in flight, so both instances are claiming at the same time.
  receiver.answer = () => ({ status: 204, delayMs: 50 });
  await register(first, key, receiver.url, { event_types: ['team'] });

  await Promise.all([teamsCreated(first, tenant.owner, 30), teamsCreated(second, tenant.owner, 30)]);
  await receiver.until((received) => receipts(received).size === 60, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  t.is(receiver.received.length, 60, 'no event sent twice');
  const [claimedBy] = await first.orm.em
    .fork()
    .execute<Array<{ delivered: string }>>(`select count(*) as delivered from webhook_deliveries where state = 'delivered'`);
  t.is(Number(claimedBy?.delivered), 60);
});

test('a delivery in flight when the process is killed (SIGKILL) is delivered after the restart', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  const port = await freePort();
  const spicedb = Object.fromEntries(
    ['SPICEDB_ENDPOINT', 'SPICEDB_PRESHARED_KEY', 'SPICEDB_INSECURE'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
  ) as Record<string, string>;
  const environment = {
    ...spicedb,
    ...FAST_RETRIES,
    // The lease of an attempt is twice this plus 5 s: a killed instance's delivery is claimable again after 7 s.
    WEBHOOK_TIMEOUT_MS: '1000',
    DATABASE_URL: database.url,
    PASSWORD_HASH_COST: '10',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  };
  const base = `http://127.0.0.1:${port}`;
  const first = startMain(environment);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitUntilReady(`${base}/readyz`, first.exited);

  const orm = await openOrm(database.url);
  const key = await ServiceAccountService.forAdministration(orm, readPolicy(undefined))
    .create(uniqueName('service'), [])
    .then((created) => created.key)
    .finally(() => orm.close());
  const registered = await fetch(`${base}/api/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ url: receiver.url, event_types: ['organization.created'] }),
  });
  t.is(registered.status, 201);
  const { id } = (await registered.json()) as { id: string };
  // The receiver takes the first attempt and never answers it: the process dies with it in flight.
  receiver.answer = () => ({ status: 204, delayMs: 60_000 });
  const signup = await fetch(`${base}/api/v1/auth/email/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(newSignup()),
  });
  t.is(signup.status, 201);
  const [inFlight] = await receiver.until((received) => received.length === 1);
  first.child.kill('SIGKILL');
  await first.exited;

  receiver.answer = () => ({ status: 204 });
  const second = startMain(environment);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitUntilReady(`${base}/readyz`, second.exited);
  const again = await receiver.until((received) => received.length === 2, 30_000);
  t.is(again[1]?.headers['webhook-id'], inFlight?.headers['webhook-id'], 'the same webhook-id: a receiver that did get the first can tell');
  t.true(
    await eventually(async () => {
      const attempts = await fetch(`${base}/api/v1/webhook-endpoints/${id}/attempts`, { headers: bearer(key) });
      const listed = (await attempts.json()) as Array<{ outcome: string }>;
      return listed.length === 1 && listed[0]?.outcome === 'delivered';
    }),
    'the killed attempt left no record; the one after the restart is delivered',
  );
});
