import test from 'ava';
import { as, bearer, makeServiceAccount, makeTenant, makeUser, type Tenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';
import type { AuditEventBody } from '../support/responses.ts';

const service = useTestService(test);

const org = (organizationId: string) => `/api/v1/orgs/${organizationId}`;

async function auditOf(tenant: Tenant, query = ''): Promise<AuditEventBody[]> {
  const response = await as(service, tenant.owner).get(`${org(tenant.organizationId)}/audit-events${query}`);
  if (response.status !== 200) throw new Error(`audit-events answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as AuditEventBody[];
}

/** The events the action adds to the chain (oldest first), checking it adds them and nothing else. */
async function eventsOfAction(tenant: Tenant, action: () => Promise<Response>): Promise<AuditEventBody[]> {
  const [head] = await auditOf(tenant, '?limit=1');
  const response = await action();
  if (response.status >= 300) throw new Error(`action answered ${response.status}: ${await response.text()}`);
  return (await auditOf(tenant, '?limit=200')).filter((event) => event.position > (head?.position ?? 0)).reverse();
}

type Pick3 = Pick<AuditEventBody, 'action' | 'actor' | 'target' | 'changes'>;
const shape = ({ action, actor, target, changes }: AuditEventBody): Pick3 => ({ action, actor, target, changes });

test('signup and POST /orgs each record one org.created event, with the owner as actor', async (t) => {
  const owner = await makeUser(service);
  const tenant = { organizationId: owner.organizationId, owner } as Tenant;
  const events = await auditOf(tenant);
  t.deepEqual(events.map(shape), [
    {
      action: 'org.created',
      actor: { type: 'user', id: owner.id },
      target: { type: 'organization', id: owner.organizationId },
      changes: { name: [null, `${owner.username}'s organization`], billing_email: [null, owner.email], owner: [null, owner.id] },
    },
  ]);
  t.is(events[0]?.position, 1);
  const created = await as(service, owner).send('POST', '/api/v1/orgs', { name: 'Second' });
  const second = ((await created.json()) as { id: string }).id;
  const [event, ...rest] = await auditOf({ organizationId: second, owner } as Tenant);
  t.is(rest.length, 0);
  t.is(event?.action, 'org.created');
  t.deepEqual(event?.changes.name, [null, 'Second']);
});

test('each organization and membership change records exactly one event with its actor, target and changes', async (t) => {
  const tenant = await makeTenant(service);
  const { owner, admin, member } = tenant;
  const base = org(tenant.organizationId);
  const newcomer = await makeUser(service);
  // A user's add only proposes a membership (test/routes/invitations.test.ts records its events); a trusted account adds.
  const { key, account } = await makeServiceAccount(service, [], { trusted: true });
  const owned = (action: string, target: Pick3['target'], changes: Pick3['changes'], actor = owner.id): Pick3 => ({
    action,
    actor: { type: 'user', id: actor },
    target,
    changes,
  });
  const org_ = { type: 'organization', id: tenant.organizationId };
  const cases: Array<[string, () => Promise<Response>, Pick3]> = [
    ['rename', () => as(service, admin).send('PATCH', base, { name: 'Renamed' }), owned('org.updated', org_, { name: [`${owner.username}'s organization`, 'Renamed'] }, admin.id)],
    [
      'billing email',
      () => as(service, owner).send('PATCH', `${base}/billing`, { billing_email: 'finance@example.com' }),
      owned('org.billing.updated', org_, { billing_email: [owner.email, 'finance@example.com'] }),
    ],
    [
      'member added',
      () => service.send('POST', `${base}/members`, { user_id: newcomer.id, role: 'member' }, bearer(key)),
      { ...owned('org.member.added', { type: 'user', id: newcomer.id }, { role: [null, 'member'] }), actor: { type: 'service_account', id: account.id } },
    ],
    [
      'role changed',
      () => as(service, owner).send('PATCH', `${base}/members/${newcomer.id}`, { role: 'admin' }),
      owned('org.member.role_changed', { type: 'user', id: newcomer.id }, { role: ['member', 'admin'] }),
    ],
    ['member left', () => as(service, member).send('DELETE', `${base}/members/${member.id}`), owned('org.member.left', { type: 'user', id: member.id }, { role: ['member', null] }, member.id)],
    [
      'member removed',
      () => as(service, owner).send('DELETE', `${base}/members/${newcomer.id}`),
      owned('org.member.removed', { type: 'user', id: newcomer.id }, { role: ['admin', null] }),
    ],
    [
      'ownership transferred',
      () => as(service, owner).send('POST', `${base}/transfer-ownership`, { user_id: admin.id }),
      owned('org.ownership_transferred', org_, { owner: [owner.id, admin.id] }),
    ],
  ];
  for (const [name, action, expected] of cases) {
    t.deepEqual((await eventsOfAction(tenant, action)).map(shape), [expected], name);
  }
});

test('each workspace and workspace-membership change records exactly one event', async (t) => {
  const tenant = await makeTenant(service);
  const { owner, admin } = tenant;
  const actor = { type: 'user' as const, id: owner.id };
  let workspaceId = '';
  const created = await eventsOfAction(tenant, async () => {
    const response = await as(service, owner).send('POST', `${org(tenant.organizationId)}/workspaces`, { name: 'Support' });
    workspaceId = ((await response.clone().json()) as { id: string }).id;
    return response;
  });
  const workspace = { type: 'workspace', id: workspaceId };
  t.deepEqual(created.map(shape), [{ action: 'workspace.created', actor, target: workspace, changes: { name: [null, 'Support'], description: [null, null] } }]);
  const ws = `/api/v1/workspaces/${workspaceId}`;
  const user = { type: 'user' as const, id: admin.id };
  const cases: Array<[() => Promise<Response>, Pick3]> = [
    [() => as(service, owner).send('PATCH', ws, { name: 'Help' }), { action: 'workspace.updated', actor, target: workspace, changes: { name: ['Support', 'Help'] } }],
    [
      () => as(service, owner).send('POST', `${ws}/members`, { user_id: admin.id, role: 'viewer' }),
      { action: 'workspace.member.added', actor, target: user, changes: { workspace_id: [null, workspaceId], role: [null, 'viewer'] } },
    ],
    [
      () => as(service, owner).send('PATCH', `${ws}/members/${admin.id}`, { role: 'editor' }),
      { action: 'workspace.member.role_changed', actor, target: user, changes: { workspace_id: [workspaceId, workspaceId], role: ['viewer', 'editor'] } },
    ],
    [
      () => as(service, admin).send('DELETE', `${ws}/members/${admin.id}`),
      { action: 'workspace.member.left', actor: user, target: user, changes: { workspace_id: [workspaceId, null], role: ['editor', null] } },
    ],
    [() => as(service, owner).send('DELETE', ws), { action: 'workspace.deleted', actor, target: workspace, changes: { name: ['Help', null] } }],
  ];
  for (const [action, expected] of cases) {
    t.deepEqual((await eventsOfAction(tenant, action)).map(shape), [expected], expected.action);
  }
});

test('a refused or no-op request records no event', async (t) => {
  const tenant = await makeTenant(service);
  const before = await auditOf(tenant);
  const base = org(tenant.organizationId);
  t.is((await as(service, tenant.member).send('PATCH', base, { name: 'Mine' })).status, 403);
  t.is((await as(service, tenant.stranger).send('DELETE', base)).status, 403);
  t.is((await as(service, tenant.admin).send('DELETE', base)).status, 403);
  t.is((await as(service, tenant.owner).send('POST', `${base}/members`, { user_id: tenant.member.id, role: 'admin' })).status, 409);
  t.is((await as(service, tenant.owner).send('PATCH', `${base}/members/${tenant.member.id}`, { role: 'member' })).status, 200);
  t.deepEqual(await auditOf(tenant), before);
});

test('an event records the request id, client address and truncated user agent', async (t) => {
  const tenant = await makeTenant(service);
  const response = await service.send('PATCH', org(tenant.organizationId), { name: 'Traced' }, {
    authorization: `Bearer ${tenant.owner.accessToken}`,
    'x-request-id': 'trace-17',
    'user-agent': `agent/${'x'.repeat(400)}`,
  });
  t.is(response.status, 200);
  const [event] = await auditOf(tenant, '?limit=1');
  t.is(event?.request_id, 'trace-17');
  t.truthy(event?.client_address);
  t.is(event?.user_agent?.length, 256);
});

test('only the owner and admins read the audit log: a member and a stranger get 403', async (t) => {
  const tenant = await makeTenant(service);
  const path = `${org(tenant.organizationId)}/audit-events`;
  t.is((await as(service, tenant.owner).get(path)).status, 200);
  t.is((await as(service, tenant.admin).get(path)).status, 200);
  t.is((await as(service, tenant.member).get(path)).status, 403);
  t.is((await as(service, tenant.stranger).get(path)).status, 403);
  t.is((await service.request(path)).status, 401);
});

test('the audit log filters by action prefix, actor and target, and pages newest first by cursor', async (t) => {
  const tenant = await makeTenant(service);
  // makeTenant: org.created (signup) and org.updated (default_workspace_role) by the owner, then the admin's and the
  // member's org.member.added by the operator (factories add directly)
  const all = await auditOf(tenant);
  t.deepEqual(all.map((event) => event.action), ['org.member.added', 'org.member.added', 'org.updated', 'org.created']);
  t.deepEqual(all.map((event) => event.position), [4, 3, 2, 1]);
  t.is((await auditOf(tenant, '?action=org.member')).length, 2);
  t.is((await auditOf(tenant, '?action=org.member.added')).length, 2);
  t.is((await auditOf(tenant, '?action=org.mem')).length, 0);
  t.is((await auditOf(tenant, '?action=org')).length, 4);
  t.deepEqual((await auditOf(tenant, `?target_type=user&target_id=${tenant.member.id}`)).map((event) => event.position), [4]);
  t.is((await auditOf(tenant, `?actor_id=${tenant.owner.id}`)).length, 2);
  t.is((await auditOf(tenant, '?actor_id=operator')).length, 2);
  t.is((await auditOf(tenant, `?actor_id=${tenant.admin.id}`)).length, 0);
  t.is((await auditOf(tenant, `?until=${encodeURIComponent(new Date(0).toISOString())}`)).length, 0);
  t.is((await auditOf(tenant, `?since=${encodeURIComponent(new Date(0).toISOString())}`)).length, 4);
  const first = await as(service, tenant.owner).get(`${org(tenant.organizationId)}/audit-events?limit=3`);
  t.deepEqual(((await first.json()) as AuditEventBody[]).map((event) => event.position), [4, 3, 2]);
  const link = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
  t.truthy(link);
  const second = await as(service, tenant.owner).get(link ?? '');
  t.deepEqual(((await second.json()) as AuditEventBody[]).map((event) => event.position), [1]);
  t.is(second.headers.get('link'), null);
  t.is((await as(service, tenant.owner).get(`${org(tenant.organizationId)}/audit-events?limit=201`)).status, 422);
});
