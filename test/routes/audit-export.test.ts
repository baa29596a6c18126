import test from 'ava';
import { findBrokenLink, GENESIS } from '../../src/audit/audit-chain.ts';
import { organizationChain } from '../../src/audit/audit-log.ts';
import { verifyAuditChains } from '../../src/audit/audit-verify.ts';
import { loadAuditEvents } from '../support/audit-load.ts';
import { as, makeTenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';
import type { AuditEventBody } from '../support/responses.ts';

const service = useTestService(test);

const exportPath = (organizationId: string, query = '') => `/api/v1/orgs/${organizationId}/audit-events/export${query}`;

/** The body, line by line as it arrives, without holding the whole of it. */
async function* lines(response: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body ?? []) {
    pending += decoder.decode(chunk, { stream: true });
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    yield* complete;
  }
  if (pending !== '') yield pending;
}

/** The exported events as a verifier in another language would read them: the wire form. */
async function* exported(response: Response) {
  for await (const line of lines(response)) {
    const event = JSON.parse(line) as AuditEventBody;
    yield {
      id: event.id,
      organizationId: event.organization_id,
      position: event.position,
      occurredAt: new Date(event.occurred_at),
      actor: event.actor,
      onBehalfOf: event.on_behalf_of,
      action: event.action,
      target: event.target,
      changes: event.changes,
      requestId: event.request_id,
      clientAddress: event.client_address,
      userAgent: event.user_agent,
      hash: event.hash,
    };
  }
}

test('an export of 10,000 events streams as NDJSON in chain order, verifiable from the export alone, and the chain still verifies', async (t) => {
  const tenant = await makeTenant(service);
  await loadAuditEvents(service.orm, tenant.organizationId, 10_000);
  const response = await as(service, tenant.owner).get(exportPath(tenant.organizationId));
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'application/x-ndjson');
  // Streamed: sent in chunks as it is read, never measured (and so never held) whole first.
  t.is(response.headers.get('transfer-encoding'), 'chunked');
  t.is(response.headers.get('content-length'), null);
  let count = 0;
  let last = 0;
  let ordered = true;
  const counted = async function* () {
    for await (const event of exported(response)) {
      count += 1;
      ordered &&= event.position === last + 1;
      last = event.position;
      yield event;
    }
  };
  t.is(await findBrokenLink(GENESIS, counted()), null);
  // The tenant's own four events, then the load.
  t.is(count, 10_004);
  t.true(ordered);
  const [report] = await verifyAuditChains(service.orm, organizationChain(tenant.organizationId));
  t.deepEqual(report, { chain: `organization:${tenant.organizationId}`, events: 10_004, broken: null });
});

test('the export keeps to since and until', async (t) => {
  const tenant = await makeTenant(service);
  const text = async (query: string) => (await as(service, tenant.owner).get(exportPath(tenant.organizationId, query))).text();
  const actions = async (query: string) => (await text(query)).trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as AuditEventBody).action);
  t.deepEqual(await actions(''), ['org.created', 'org.updated', 'org.member.added', 'org.member.added']);
  t.deepEqual(await actions(`?until=${encodeURIComponent(new Date(0).toISOString())}`), []);
  t.deepEqual(await actions(`?since=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`), []);
  const past = new Date(Date.now() - 3600_000);
  await loadAuditEvents(service.orm, tenant.organizationId, 3, { occurredAt: past });
  const cut = encodeURIComponent(new Date(past.getTime() + 1).toISOString());
  t.deepEqual(await actions(`?until=${cut}`), ['test.load', 'test.load', 'test.load']);
  t.is((await actions(`?since=${cut}`)).length, 4);
  t.is((await as(service, tenant.owner).get(exportPath(tenant.organizationId, '?since=yesterday'))).status, 422);
});

test('only the owner and admins export: a member and a stranger get 403, and no one signed in 401', async (t) => {
  const tenant = await makeTenant(service);
  const path = exportPath(tenant.organizationId);
  t.is((await as(service, tenant.admin).get(path)).status, 200);
  t.is((await as(service, tenant.member).get(path)).status, 403);
  t.is((await as(service, tenant.stranger).get(path)).status, 403);
  t.is((await as(service, tenant.stranger).get(exportPath('00000000-0000-4000-8000-000000000000'))).status, 403);
  t.is((await service.request(path)).status, 401);
});

test('a client that hangs up mid-export leaves the service serving', async (t) => {
  const tenant = await makeTenant(service);
  await loadAuditEvents(service.orm, tenant.organizationId, 5_000);
  const controller = new AbortController();
  const response = await service.request(exportPath(tenant.organizationId), {
    headers: { authorization: `Bearer ${tenant.owner.accessToken}` },
    signal: controller.signal,
  });
  const reader = response.body?.getReader();
  await reader?.read();
  controller.abort();
  await reader?.cancel().catch(() => undefined);
  const again = await as(service, tenant.owner).get(exportPath(tenant.organizationId));
  let count = 0;
  for await (const _line of lines(again)) count += 1;
  t.is(count, 5_004);
});
