import test from 'ava';
import { as, makeTenant } from '../support/factories.ts';
import { canRunSpiceDbServer, startServiceBehindProxy, type TcpProxy } from '../support/spicedb-server.ts';
import type { TestService } from '../support/test-service.ts';

/** A SpiceDB that answers, but slower than SPICEDB_TIMEOUT_MS (a delay injected in front of it). */
const serial = canRunSpiceDbServer ? test.serial : test.skip;

let proxy: TcpProxy;
let service: TestService;
let stop: (() => Promise<void>) | undefined;
test.before(async () => {
  if (!canRunSpiceDbServer) return;
  ({ service, proxy, stop } = await startServiceBehindProxy({ SPICEDB_TIMEOUT_MS: '300' }));
});
test.after.always(async () => {
  await stop?.();
});

serial('a slow SpiceDB makes guarded requests answer 503 at the configured deadline; the process stays healthy', async (t) => {
  const tenant = await makeTenant(service);
  proxy.delayMs = 1_500;
  try {
    const read = await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`);
    t.is(read.status, 503);
    t.is(read.headers.get('content-type'), 'application/problem+json');
    const removal = await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`);
    t.is(removal.status, 503);
    t.is((await service.request('/healthz')).status, 200, 'the process is alive and answering');
  } finally {
    proxy.delayMs = 0;
  }
  // Let any delayed bytes drain before the next request.
  await new Promise((resolve) => setTimeout(resolve, 1_600));
  t.is((await as(service, tenant.member).get(`/api/v1/orgs/${tenant.organizationId}`)).status, 200);
});
