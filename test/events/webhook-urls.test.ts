import test from 'ava';
import { isPublicAddress } from '../../src/events/webhooks/url-guard.ts';
import { eventually } from '../support/eventually.ts';
import { bearer, makeServiceAccount, makeTenant, makeUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

// As in production: WEBHOOK_ALLOW_PRIVATE_URLS unset.
const service = useTestService(test, { environment: { EVENTS_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_RETRY_SCHEDULE: '200ms' } });

const PUBLIC_URL = 'http://93.184.215.14/hooks';

test('only global unicast addresses are public', (t) => {
  for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) t.true(isPublicAddress(address), address);
  for (const address of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    'not an address',
  ]) {
    t.false(isPublicAddress(address), address);
  }
});

test('an endpoint on a private, loopback or link-local address is refused at registration', async (t) => {
  // Limited to a quiet organization: the public endpoint it registers is never sent anything.
  const quiet = await makeUser(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [quiet.organizationId] });
  for (const url of [
    'http://127.0.0.1:8080/hooks',
    'http://localhost/hooks',
    'http://10.0.0.5/hooks',
    'https://192.168.1.20/hooks',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://[fe80::1]/hooks',
    'http://0.0.0.0/hooks',
  ]) {
    const response = await service.send('POST', '/api/v1/webhook-endpoints', { url }, bearer(key));
    t.is(response.status, 422, url);
    const problem = (await response.json()) as { errors: Array<{ field: string; message: string }> };
    t.is(problem.errors[0]?.field, 'body.url', url);
    t.regex(problem.errors[0]?.message ?? '', /must reach a public address/, url);
  }
  const accepted = await service.send('POST', '/api/v1/webhook-endpoints', { url: PUBLIC_URL }, bearer(key));
  t.is(accepted.status, 201);
  const changed = await service.send('PATCH', `/api/v1/webhook-endpoints/${((await accepted.json()) as { id: string }).id}`, { url: 'http://127.0.0.1/x' }, bearer(key));
  t.is(changed.status, 422, 'nor can a URL be changed to one');
});

test('the address is checked again at delivery: an endpoint whose host now resolves to a private address is sent nothing', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.down());
  const created = await service.send('POST', '/api/v1/webhook-endpoints', { url: PUBLIC_URL }, bearer(key));
  const { id } = (await created.json()) as { id: string };
  const attempts = async () =>
    (await (await service.request(`/api/v1/webhook-endpoints/${id}/attempts`, { headers: bearer(key) })).json()) as Array<{ outcome: string; error: string }>;
  // What a rebinding name does between registration and delivery: the endpoint now leads to this machine.
  const port = new URL(receiver.url).port;
  for (const [url, role, refusal] of [
    [`http://localhost:${port}/hooks`, 'admin', /^localhost resolves to (127\.0\.0\.1|::1), which is not a public address$/],
    [receiver.url, 'member', /^127\.0\.0\.1 resolves to 127\.0\.0\.1, which is not a public address$/],
  ] as const) {
    await service.orm.em.fork().execute('update webhook_endpoints set url = ? where id = ?', [url, id]);
    await seed(service, ({ members }) => members.changeRole(tenant.owner.id, tenant.organizationId, tenant.member.id, role));
    t.true(await eventually(async () => (await attempts()).some((attempt) => refusal.test(attempt.error))), url);
  }
  t.true((await attempts()).every((attempt) => attempt.outcome === 'failed'));
  t.deepEqual(receiver.received, []);
});
