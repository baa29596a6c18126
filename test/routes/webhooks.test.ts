import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { eventually } from '../support/eventually.ts';
import { bearer, makeServiceAccount, makeTenant, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';
import { WebhookReceiver, webhookHeaders, type ReceivedWebhook } from '../support/webhook-receiver.ts';

const service = useTestService(test, {
  environment: {
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms',
    WEBHOOK_TIMEOUT_MS: '1000',
    EVENTS_POLL_MS: '50',
  },
});

const ENDPOINTS = '/api/v1/webhook-endpoints';

interface Registered {
  id: string;
  secret: string;
  key: string;
  receiver: WebhookReceiver;
  tenant: Tenant;
}

/** A tenant, a service account limited to it, a receiver, and an endpoint of that account pointing at it. */
async function registered(t: { teardown(fn: () => Promise<void>): void }, settings: Record<string, unknown> = {}): Promise<Registered> {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  const response = await service.send('POST', ENDPOINTS, { url: receiver.url, ...settings }, bearer(key));
  if (response.status !== 201) throw new Error(`POST ${ENDPOINTS} answered ${response.status}: ${await response.text()}`);
  const { id, secret } = (await response.json()) as { id: string; secret: string };
  return { id, secret, key, receiver, tenant };
}

/** One change in the tenant: its member becomes an admin (or back). */
async function changeRole(tenant: Tenant, role: 'admin' | 'member' = 'admin'): Promise<void> {
  await seed(service, ({ members }) => members.changeRole(tenant.owner.id, tenant.organizationId, tenant.member.id, role));
}

const roleChanges = (received: ReceivedWebhook[]) => received.filter((webhook) => webhook.event.type === 'organization.member.role_changed');

function verifiers(secret: string) {
  return [new StandardWebhook(secret), new SvixWebhook(secret)] as const;
}

/** Waits until the webhook fan-out has passed every event committed so far. */
async function fannedOut(): Promise<void> {
  const em = service.orm.em.fork();
  const [newest] = await em.execute<Array<{ transaction_id: string; sequence: string }>>(
    'select transaction_id::text, sequence::text from events order by transaction_id desc, sequence desc limit 1',
  );
  const passed = async () => {
    const [sink] = await em.execute<Array<{ passed: boolean }>>(
      `select (transaction_id, sequence) >= (?::xid8, ?::bigint) as passed from event_sinks where name = 'webhooks'`,
      [newest?.transaction_id, newest?.sequence],
    );
    return sink?.passed === true;
  };
  if (!(await eventually(passed))) throw new Error('the fan-out never passed the newest event');
}

/** Waits until the endpoint has no delivery pending. */
async function settled(endpointId: string): Promise<void> {
  const pending = async () =>
    Number(
      (await service.orm.em.fork().execute<Array<{ count: string }>>(`select count(*) from webhook_deliveries where endpoint_id = ? and state = 'pending'`, [endpointId]))[0]
        ?.count,
    );
  if (!(await eventually(async () => (await pending()) === 0))) throw new Error('deliveries stayed pending');
}

async function endpoint(key: string, id: string) {
  const response = await service.request(`${ENDPOINTS}/${id}`, { headers: bearer(key) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function attempts(key: string, id: string) {
  const response = await service.request(`${ENDPOINTS}/${id}/attempts`, { headers: bearer(key) });
  return (await response.json()) as Array<{ event_id: string; outcome: string; status_code: number | null; error: string | null }>;
}

test('the signing secret is shown once: at registration, never by GET or the list', async (t) => {
  const { id, secret, key, receiver } = await registered(t, { event_types: ['organization.member'], description: 'chat sessions' });
  t.regex(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const got = await endpoint(key, id);
  t.is(got.status, 200);
  t.like(got.body, { url: receiver.url, event_types: ['organization.member'], description: 'chat sessions', enabled: true });
  t.false('secret' in got.body);
  const listed = await (await service.request(ENDPOINTS, { headers: bearer(key) })).text();
  t.false(listed.includes(secret));
  t.true(listed.includes(id));
});

test('every change to an endpoint is in the audit log with who made it, never a secret, and no event is published for it', async (t) => {
  const { id, secret, key } = await registered(t, { description: 'first' });
  t.is((await service.send('PATCH', `${ENDPOINTS}/${id}`, { description: 'second', enabled: false }, bearer(key))).status, 200);
  const rotation = await service.send('POST', `${ENDPOINTS}/${id}/secret/rotate`, { overlap_seconds: 60 }, bearer(key));
  const { secret: rotated } = (await rotation.json()) as { secret: string };
  t.is((await service.send('DELETE', `${ENDPOINTS}/${id}`, undefined, bearer(key))).status, 204);

  const rows = await service.orm.em
    .fork()
    .execute<Array<{ action: string; actor_type: string; changes: Record<string, [unknown, unknown]> }>>(
      "select action, actor_type, changes from audit_events where target_type = 'webhook_endpoint' and target_id = ? order by position",
      [id],
    );
  t.deepEqual(
    rows.map((row) => row.action),
    ['webhook_endpoint.created', 'webhook_endpoint.changed', 'webhook_endpoint.secret_rotated', 'webhook_endpoint.deleted'],
  );
  t.true(rows.every((row) => row.actor_type === 'service_account'));
  t.deepEqual(rows[1]?.changes, { description: ['first', 'second'], state: ['enabled', 'disabled'] });
  const recorded = JSON.stringify(rows);
  t.false(recorded.includes(secret) || recorded.includes(rotated), 'no secret in the audit log');
  const published = await service.orm.em.fork().execute<Array<{ n: string }>>("select count(*) as n from events where type like 'webhook_endpoint.%'");
  t.is(Number(published[0]?.n), 0);
});

test("another service account's endpoint is as unknown as a missing one", async (t) => {
  const { id } = await registered(t);
  const other = await makeServiceAccount(service, []);
  for (const [method, path, body] of [
    ['GET', `${ENDPOINTS}/${id}`, undefined],
    ['PATCH', `${ENDPOINTS}/${id}`, { enabled: false }],
    ['DELETE', `${ENDPOINTS}/${id}`, undefined],
    ['POST', `${ENDPOINTS}/${id}/secret/rotate`, {}],
    ['GET', `${ENDPOINTS}/${id}/attempts`, undefined],
  ] as const) {
    const response = await service.send(method, path, body, bearer(other.key));
    t.is(response.status, 404, `${method} ${path}`);
  }
  const missing = await service.send('GET', `${ENDPOINTS}/00000000-0000-4000-8000-000000000000`, undefined, bearer(other.key));
  t.deepEqual(await missing.json().then((problem: { detail: string }) => problem.detail), 'No webhook endpoint of this service account has that id');
});

test('deliveries verify with standardwebhooks and with svix; both refuse a tampered body and a stale timestamp', async (t) => {
  const { secret, receiver, tenant } = await registered(t);
  await changeRole(tenant);
  const [delivery] = roleChanges(await receiver.until((received) => roleChanges(received).length === 1));
  if (!delivery) throw new Error('no delivery');
  t.is(delivery.headers['content-type'], 'application/json');
  t.is(delivery.headers['webhook-id'], delivery.event.id);
  t.like(delivery.event, {
    type: 'organization.member.role_changed',
    organization_id: tenant.organizationId,
    data: { object: { type: 'user', id: tenant.member.id }, changes: { role: { before: 'member', after: 'admin' } } },
  });
  for (const verifier of verifiers(secret)) {
    t.notThrows(() => verifier.verify(delivery.body, webhookHeaders(delivery)));
    t.throws(() => verifier.verify(delivery.body.replace('"admin"', '"owner"'), webhookHeaders(delivery)));
  }
  // The same delivery replayed six minutes later.
  const realNow = Date.now;
  Date.now = () => realNow() + 6 * 60_000;
  try {
    for (const verifier of verifiers(secret)) t.throws(() => verifier.verify(delivery.body, webhookHeaders(delivery)), { message: /timestamp/i });
  } finally {
    Date.now = realNow;
  }
});

test("during a rotation's overlap each delivery carries both signatures and either secret verifies it; after it, only the new one", async (t) => {
  const { id, secret: oldSecret, key, receiver, tenant } = await registered(t);
  const rotated = await service.send('POST', `${ENDPOINTS}/${id}/secret/rotate`, { overlap_seconds: 3600 }, bearer(key));
  t.is(rotated.status, 200);
  const { secret: newSecret, previous_secret_expires_at } = (await rotated.json()) as { secret: string; previous_secret_expires_at: string };
  t.not(newSecret, oldSecret);
  t.true(Date.parse(previous_secret_expires_at) > Date.now() + 3500_000);

  await changeRole(tenant, 'admin');
  const [during] = roleChanges(await receiver.until((received) => roleChanges(received).length === 1));
  if (!during) throw new Error('no delivery');
  t.is(String(during.headers['webhook-signature']).split(' ').length, 2);
  for (const secret of [oldSecret, newSecret]) {
    for (const verifier of verifiers(secret)) t.notThrows(() => verifier.verify(during.body, webhookHeaders(during)));
  }

  const ended = await service.send('POST', `${ENDPOINTS}/${id}/secret/rotate`, { overlap_seconds: 0 }, bearer(key));
  const { secret: latest } = (await ended.json()) as { secret: string };
  await changeRole(tenant, 'member');
  const after = roleChanges(await receiver.until((received) => roleChanges(received).length === 2))[1];
  if (!after) throw new Error('no delivery');
  t.is(String(after.headers['webhook-signature']).split(' ').length, 1);
  for (const verifier of verifiers(latest)) t.notThrows(() => verifier.verify(after.body, webhookHeaders(after)));
  for (const verifier of verifiers(newSecret)) t.throws(() => verifier.verify(after.body, webhookHeaders(after)));
});

test('an endpoint receives only the types it asked for, of the organizations it named, that its account may read', async (t) => {
  const { id, receiver, tenant, key } = await registered(t, { event_types: ['team'] });
  const other = await makeTenant(service);
  const forbidden = await service.send('POST', ENDPOINTS, { url: receiver.url, organization_ids: [other.organizationId] }, bearer(key));
  t.is(forbidden.status, 422, 'an organization outside the account is refused');
  await changeRole(tenant);
  await seed(service, ({ teams }) => teams.create(tenant.owner.id, tenant.organizationId, { name: 'Wanted' }));
  await seed(service, ({ teams }) => teams.create(other.owner.id, other.organizationId, { name: 'Not ours' }));
  await fannedOut();
  await settled(id);
  t.deepEqual(
    receiver.received.map((webhook) => [webhook.event.type, webhook.event.organization_id]),
    [['team.created', tenant.organizationId]],
  );
});

test('a failed delivery is retried with the same webhook-id until it succeeds, and every attempt is listed', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  let calls = 0;
  receiver.answer = () => ({ status: ++calls <= 2 ? 500 : 204 });
  await changeRole(tenant);
  await receiver.until((received) => received.length === 3);
  const ids = new Set(receiver.received.map((webhook) => webhook.headers['webhook-id']));
  t.is(ids.size, 1, 'one webhook-id across the retries');
  t.true(await eventually(async () => (await attempts(key, id)).length === 3));
  const listed = await attempts(key, id);
  t.deepEqual(
    listed.map((attempt) => [attempt.outcome, attempt.status_code]),
    [['delivered', 204], ['failed', 500], ['failed', 500]],
    'newest first',
  );
  t.true(listed.every((attempt) => attempt.event_id === [...ids][0]));
  t.like((await endpoint(key, id)).body, { enabled: true, failing_since: null });
});

test('Retry-After on a 429 or 503 is honoured over the shorter delay of the schedule', async (t) => {
  const { receiver, tenant } = await registered(t);
  let calls = 0;
  receiver.answer = () => (++calls === 1 ? { status: 429, headers: { 'Retry-After': '2' } } : { status: 204 });
  await changeRole(tenant);
  const [first, second] = await receiver.until((received) => received.length === 2);
  t.true((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0) >= 1900, `waited ${(second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)} ms`);
});

test('a delivery is given up after the last retry of the schedule; the endpoint stays enabled', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  receiver.answer = () => ({ status: 500 });
  await changeRole(tenant);
  await receiver.until((received) => received.length === 4);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.is(receiver.received.length, 4, 'the first attempt and three retries');
  t.like((await endpoint(key, id)).body, { enabled: true });
});

test('a receiver that answers too late counts as a failed attempt', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  let calls = 0;
  receiver.answer = () => (++calls === 1 ? { status: 204, delayMs: 3000 } : { status: 204 });
  await changeRole(tenant);
  await receiver.until((received) => received.length === 2);
  t.true(await eventually(async () => (await attempts(key, id)).length === 2));
  const [, late] = await attempts(key, id);
  t.like(late, { outcome: 'failed', status_code: null, error: 'no answer within 1000 ms' });
});

test('410 Gone disables the endpoint: nothing more is sent until it is enabled again', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  receiver.answer = () => ({ status: 410 });
  await changeRole(tenant, 'admin');
  await receiver.until((received) => received.length === 1);
  t.true(await eventually(async () => (await endpoint(key, id)).body.enabled === false));
  t.like((await endpoint(key, id)).body, { disabled_reason: 'the endpoint answered 410 Gone' });

  receiver.answer = () => ({ status: 204 });
  await changeRole(tenant, 'member');
  await fannedOut();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(receiver.received.length, 1, 'a disabled endpoint is sent nothing');

  const enabled = await service.send('PATCH', `${ENDPOINTS}/${id}`, { enabled: true }, bearer(key));
  t.like(await enabled.json(), { enabled: true, disabled_reason: null });
  await changeRole(tenant, 'admin');
  await receiver.until((received) => received.length === 2);
  t.like(receiver.received[1]?.event, { data: { changes: { role: { before: 'member', after: 'admin' } } } });
});

test('an endpoint that has failed every delivery for days is disabled', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  receiver.answer = () => ({ status: 503 });
  await service.orm.em.fork().execute(`update webhook_endpoints set failing_since = now() - interval '6 days' where id = ?`, [id]);
  await changeRole(tenant);
  await receiver.until((received) => received.length === 1);
  t.true(await eventually(async () => (await endpoint(key, id)).body.enabled === false));
  t.like((await endpoint(key, id)).body, { disabled_reason: 'every delivery failed for 5 days' });
});

test('any event the account may read can be sent again, with its own webhook-id', async (t) => {
  const { id, key, receiver, tenant } = await registered(t);
  await changeRole(tenant);
  const [first] = await receiver.until((received) => received.length === 1);
  const eventId = first?.event.id ?? '';
  const created = (await service.orm.em.fork().execute<Array<{ id: string }>>(
    `select id from events where organization_id = ? and type = 'organization.created'`,
    [tenant.organizationId],
  ))[0]?.id;

  t.is((await service.send('POST', `${ENDPOINTS}/${id}/resend`, { event_id: eventId }, bearer(key))).status, 202);
  t.is((await service.send('POST', `${ENDPOINTS}/${id}/resend`, { event_id: created }, bearer(key))).status, 202, 'also one from before the endpoint existed');
  await receiver.until((received) => received.length === 3);
  t.is(receiver.withId(eventId).length, 2);
  t.is(receiver.withId(created ?? '').length, 1);

  const strangers = (await service.orm.em.fork().execute<Array<{ id: string }>>('select id from events where organization_id = ? limit 1', [tenant.stranger.organizationId]))[0]?.id;
  t.is((await service.send('POST', `${ENDPOINTS}/${id}/resend`, { event_id: strangers }, bearer(key))).status, 404);
});

test('registration refuses what cannot be an endpoint, field by field', async (t) => {
  const { key } = await makeServiceAccount(service, []);
  for (const [body, field] of [
    [{ url: 'ftp://127.0.0.1/hooks' }, 'body.url'],
    [{ url: 'http://user:secret@127.0.0.1/hooks' }, 'body.url'],
    [{ url: 'not a url' }, 'body.url'],
    [{ url: 'http://127.0.0.1/hooks', event_types: ['Organization'] }, 'body.event_types.0'],
    [{ url: 'http://127.0.0.1/hooks', event_types: [] }, 'body.event_types'],
    [{ url: 'http://127.0.0.1/hooks', organization_ids: ['00000000-0000-4000-8000-000000000000'] }, 'body.organization_ids'],
    [{ url: 'http://127.0.0.1/hooks', secret: 'whsec_mine' }, 'body.secret'],
  ] as const) {
    const response = await service.send('POST', ENDPOINTS, body, bearer(key));
    t.is(response.status, 422, JSON.stringify(body));
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    t.deepEqual(problem.errors.map((error) => error.field), [field], JSON.stringify(body));
  }
  t.is((await (await service.request(ENDPOINTS, { headers: bearer(key) })).json() as unknown[]).length, 0, 'nothing was registered');
});

test('an operator registers, lists, rotates and disables endpoints with the CLI; each secret is printed once, alone on stdout', async (t) => {
  const tenant = await makeTenant(service);
  const { account, key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli/main.ts', 'webhook', ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
    });
  const created = await cli('create', account.id, receiver.url, '--types', 'organization.member', '--org', tenant.organizationId);
  const secret = created.stdout.trim();
  t.regex(secret, /^whsec_\S+$/);
  const listed = (await cli('list', account.id)).stdout;
  const id = listed.split(/\s+/)[0] ?? '';
  t.regex(listed, new RegExp(`${id}  ${receiver.url}  types=organization.member  orgs=${tenant.organizationId}  enabled`));
  t.like((await endpoint(key, id)).body, { url: receiver.url, event_types: ['organization.member'], organization_ids: [tenant.organizationId] });

  await changeRole(tenant);
  const [delivery] = await receiver.until((received) => received.length === 1);
  if (!delivery) throw new Error('no delivery');
  for (const verifier of verifiers(secret)) t.notThrows(() => verifier.verify(delivery.body, webhookHeaders(delivery)));

  const rotated = (await cli('rotate-secret', id, '--overlap', '0')).stdout.trim();
  t.regex(rotated, /^whsec_\S+$/);
  t.not(rotated, secret);
  t.regex((await cli('disable', id)).stdout, /is disabled/);
  t.like((await endpoint(key, id)).body, { enabled: false, disabled_reason: 'disabled by its service account' });
  const actors = await service.orm.em
    .fork()
    .execute<Array<{ actor: string }>>("select distinct actor_type || ':' || actor_id as actor from audit_events where target_type = 'webhook_endpoint' and target_id = ?", [id]);
  t.deepEqual(actors.map((row) => row.actor), ['system:operator'], 'the CLI records the operator as who changed the endpoint');
  await t.throwsAsync(cli('rotate-secret', id, '--overlap', 'soon'), { message: /--overlap must be whole seconds/ });
});
