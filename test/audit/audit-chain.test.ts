import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { verifyAuditChains } from '../../src/audit/audit-verify.ts';
import { canonicalJson, chainHash } from '../../src/audit/audit-chain.ts';
import { AUDIT_COLUMNS, fromAuditRow, organizationChain, type AuditRow } from '../../src/audit/audit-log.ts';
import { as, bearer, makeServiceAccount, makeTenant, makeUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

/** A tenant with a few more events: seven in its chain. */
async function tenantWithHistory(): Promise<Tenant> {
  const tenant = await makeTenant(service);
  const base = `/api/v1/orgs/${tenant.organizationId}`;
  await as(service, tenant.owner).send('PATCH', base, { name: 'One' });
  await as(service, tenant.owner).send('PATCH', base, { name: 'Two' });
  await as(service, tenant.owner).send('PATCH', `${base}/members/${tenant.member.id}`, { role: 'admin' });
  return tenant;
}

/** Changes rows as someone with direct database access would: with the append-only trigger bypassed. */
async function tamper(sql: string, params: unknown[]): Promise<void> {
  await service.orm.em.fork().transactional(async (em) => {
    await em.execute("set local session_replication_role = 'replica'");
    await em.execute(sql, params);
  });
}

async function verify(organizationId: string) {
  const [report] = await verifyAuditChains(service.orm, organizationChain(organizationId));
  return report;
}

test('canonical JSON sorts keys at every depth', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: null }], c: 'é' } }), '{"a":{"c":"é","d":[1,{"x":null,"y":2}]},"b":1}');
});

test('a clean chain verifies, from the API and the CLI', async (t) => {
  const tenant = await tenantWithHistory();
  t.deepEqual(await verify(tenant.organizationId), { chain: `organization:${tenant.organizationId}`, events: 7, broken: null });
  const { stdout } = await promisify(execFile)(process.execPath, ['src/cli/main.ts', 'audit', 'verify', tenant.organizationId], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
  });
  t.regex(stdout, new RegExp(`ok +organization:${tenant.organizationId} 7 events`));
});

test('the application cannot update or delete audit events', async (t) => {
  const tenant = await makeTenant(service);
  const em = service.orm.em.fork();
  await t.throwsAsync(em.execute("update audit_events set action = 'x' where organization_id = ?", [tenant.organizationId]), { message: /append-only/ });
  await t.throwsAsync(em.execute('delete from audit_events where organization_id = ?', [tenant.organizationId]), { message: /append-only/ });
  t.is((await verify(tenant.organizationId))?.events, 4);
});

test('an edited event is caught at its position, and the CLI exits 1 naming it', async (t) => {
  const tenant = await tenantWithHistory();
  await tamper(`update audit_events set changes = '{"role": ["member", "owner"]}' where organization_id = ? and position = 7`, [tenant.organizationId]);
  t.like((await verify(tenant.organizationId))?.broken, { position: 7 });
  const failed = await promisify(execFile)(process.execPath, ['src/cli/main.ts', 'audit', 'verify'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
  }).catch((error: { code: number; stdout: string }) => error);
  t.is('code' in failed ? failed.code : 0, 1);
  t.regex(failed.stdout, new RegExp(`BROKEN organization:${tenant.organizationId} at position 7`));
});

test('an event whose actor was swapped is caught', async (t) => {
  const tenant = await tenantWithHistory();
  const intruder = await makeUser(service);
  await tamper('update audit_events set actor_id = ? where organization_id = ? and position = 5', [intruder.id, tenant.organizationId]);
  t.like((await verify(tenant.organizationId))?.broken, { position: 5 });
});

test('a deleted event is caught', async (t) => {
  const tenant = await tenantWithHistory();
  await tamper('delete from audit_events where organization_id = ? and position = 3', [tenant.organizationId]);
  t.like((await verify(tenant.organizationId))?.broken, { position: 3 });
});

test('reordered events are caught', async (t) => {
  const tenant = await tenantWithHistory();
  // Swap positions 5 and 6 (the sequence stays unbroken; each row keeps its own hash).
  for (const [from, to] of [[5, -1], [6, 5], [-1, 6]]) {
    await tamper('update audit_events set position = ? where organization_id = ? and position = ?', [to, tenant.organizationId, from]);
  }
  t.like((await verify(tenant.organizationId))?.broken, { position: 5 });
});

test('on_behalf_of is {type, id}, and is in the hash; an event recorded before, holding the bare id it was hashed with, still verifies and reads as that id', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const registered = await service.send(
    'PUT',
    '/api/v1/authz/resources/chatbot/audited_bot',
    { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: { type: 'user', id: tenant.owner.id } },
    bearer(key),
  );
  t.is(registered.status, 201);
  const latest = async () => {
    const response = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events?action=resource.registered`);
    return ((await response.json()) as Array<{ on_behalf_of: unknown }>)[0]?.on_behalf_of;
  };
  t.deepEqual(await latest(), { type: 'user', id: tenant.owner.id });

  const [row] = await service.orm.em
    .fork()
    .execute<AuditRow[]>(`select ${AUDIT_COLUMNS} from audit_events where organization_id = ? order by position desc limit 1`, [tenant.organizationId]);
  if (!row) throw new Error('no event');
  // Dropping the type alone breaks the link: it is hashed.
  await tamper('update audit_events set on_behalf_of_type = null where id = ?', [row.id]);
  t.like((await verify(tenant.organizationId))?.broken, { position: Number(row.position) });

  // As an earlier version recorded it: the bare id, hashed as such.
  const [previous] = await service.orm.em
    .fork()
    .execute<Array<{ hash: string }>>('select hash from audit_events where organization_id = ? and position = ?', [tenant.organizationId, Number(row.position) - 1]);
  const legacy = fromAuditRow({ ...row, on_behalf_of_type: null });
  await tamper('update audit_events set hash = ? where id = ?', [chainHash(previous?.hash ?? '', legacy), row.id]);
  t.is((await verify(tenant.organizationId))?.broken, null);
  t.is(await latest(), tenant.owner.id);
});

test('concurrent access changes in one organization never fork its chain: positions stay contiguous and it verifies', async (t) => {
  const tenant = await makeTenant(service);
  const base = `/api/v1/orgs/${tenant.organizationId}`;
  await seed(service, ({ subscriptionTiers }) => subscriptionTiers.setByOperator(tenant.organizationId, 'enterprise'));
  const newcomers = await Promise.all(Array.from({ length: 20 }, () => makeUser(service)));
  // Added at once by a trusted service account (a user's add only proposes a membership).
  const { key } = await makeServiceAccount(service, [], { trusted: true });
  const added = await Promise.all(
    newcomers.map((user) => service.send('POST', `${base}/members`, { user_id: user.id, role: 'member' }, bearer(key))),
  );
  t.deepEqual(added.map((response) => response.status), newcomers.map(() => 200));
  // Role changes by two different actors at once, racing each other too.
  const changed = await Promise.all(
    newcomers.map((user, index) => as(service, index % 2 ? tenant.admin : tenant.owner).send('PATCH', `${base}/members/${user.id}`, { role: 'admin' })),
  );
  t.deepEqual(changed.map((response) => response.status), newcomers.map(() => 200));
  const rows = await service.orm.em
    .fork()
    .execute<Array<{ position: string }>>('select position from audit_events where organization_id = ? order by position', [tenant.organizationId]);
  // makeTenant's 4, the plan change, 20 adds and 20 role changes.
  t.deepEqual(rows.map((row) => Number(row.position)), Array.from({ length: 45 }, (_, index) => index + 1));
  t.deepEqual(await verify(tenant.organizationId), { chain: `organization:${tenant.organizationId}`, events: 45, broken: null });
});
