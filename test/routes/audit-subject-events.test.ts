import test from 'ava';
import { decodeJwt } from 'jose';
import { verifyAuditChains } from '../../src/audit/audit-verify.ts';
import type { SessionBody } from '../support/responses.ts';
import { as, bearer, makeServiceAccount, makeTenant, makeUser, uniqueName, type SignedUpUser } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Events outside the organization routes: sessions (each user's own chain), service accounts
 * (each account's chain), and resources registered through the authorization API (the owning
 * organization's chain, with the service account as actor and the user it acted for).
 */

const service = useTestService(test);

interface AuditEventBody {
  organization_id: string | null;
  position: number;
  actor: { type: string; id: string };
  on_behalf_of: { type: string; id: string } | string | null;
  action: string;
  target: { type: string; id: string };
  changes: Record<string, [unknown, unknown]>;
}

const shape = ({ action, actor, target, changes, on_behalf_of }: AuditEventBody) => ({ action, actor, target, changes, on_behalf_of });

async function ownEvents(user: { accessToken: string }, query = ''): Promise<AuditEventBody[]> {
  const response = await as(service, user).get(`/api/v1/auth/me/audit-events${query}`);
  if (response.status !== 200) throw new Error(`me/audit-events answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as AuditEventBody[];
}

async function orgEvents(owner: SignedUpUser, organizationId: string): Promise<AuditEventBody[]> {
  const response = await as(service, owner).get(`/api/v1/orgs/${organizationId}/audit-events?limit=200`);
  return ((await response.json()) as AuditEventBody[]).reverse();
}

/** The events of a chain outside the organizations, oldest first, straight from the table. */
async function chainEvents(type: string, id: string): Promise<AuditEventBody[]> {
  const rows = await service.orm.em
    .fork()
    .execute<Array<{ action: string; actor_type: string; actor_id: string; target_type: string; target_id: string; changes: Record<string, [unknown, unknown]>; on_behalf_of: string | null; organization_id: string | null; position: string }>>(
      'select * from audit_events where organization_id is null and target_type = ? and target_id = ? order by position',
      [type, id],
    );
  return rows.map((row) => ({
    organization_id: row.organization_id,
    position: Number(row.position),
    actor: { type: row.actor_type, id: row.actor_id },
    on_behalf_of: row.on_behalf_of,
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    changes: row.changes,
  }));
}

/** A failed sign-in is recorded after its 401 (so the 401 takes no longer for a real account): wait for it. */
async function failedSignInRecorded(user: SignedUpUser, count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await ownEvents(user, '?action=session.sign_in_failed')).length < count) {
    if (Date.now() > deadline) throw new Error('the failed sign-in was never recorded');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function login(user: SignedUpUser, password = user.password): Promise<Response> {
  return service.send('POST', '/api/v1/auth/email/login', { email: user.email, password });
}

async function chainIsIntact(type: string, id: string): Promise<boolean> {
  const [report] = await verifyAuditChains(service.orm, { type, id });
  return report?.broken === null;
}

test('sign-in, failed sign-in and sign-out are recorded in the user’s own chain, outside any organization', async (t) => {
  const user = await makeUser(service);
  const signupSession = String(decodeJwt(user.accessToken).sid);
  const self = { type: 'user', id: user.id };
  t.is((await login(user, 'not-the-password')).status, 401);
  await failedSignInRecorded(user);
  const signedIn = (await (await login(user)).json()) as SessionBody;
  const session = String(decodeJwt(signedIn.access_token).sid);
  // A refresh continues the session: nothing to record.
  t.is((await service.send('POST', '/api/v1/auth/refresh', { refresh_token: signedIn.refresh_token })).status, 200);
  t.is((await service.send('POST', '/api/v1/auth/logout', { refresh_token: signedIn.refresh_token })).status, 204);
  // Already ended: signing out again records nothing.
  t.is((await service.send('POST', '/api/v1/auth/logout', { refresh_token: signedIn.refresh_token })).status, 204);

  const events = (await ownEvents(user)).reverse();
  t.deepEqual(events.map(shape), [
    { action: 'session.signed_in', actor: self, target: self, changes: { session_id: [null, signupSession] }, on_behalf_of: null },
    { action: 'session.sign_in_failed', actor: { type: 'system', id: 'unauthenticated' }, target: self, changes: {}, on_behalf_of: null },
    { action: 'session.signed_in', actor: self, target: self, changes: { session_id: [null, session] }, on_behalf_of: null },
    { action: 'session.signed_out', actor: self, target: self, changes: { session_id: [session, null] }, on_behalf_of: null },
  ]);
  t.true(events.every((event) => event.organization_id === null));
  t.deepEqual(events.map((event) => event.position), [1, 2, 3, 4]);
  t.true(await chainIsIntact('user', user.id));
});

test('no password material is stored: not the attempted password, not the real one, not a hash', async (t) => {
  const user = await makeUser(service);
  const wrong = `wrong-${user.password}`;
  t.is((await login(user, wrong)).status, 401);
  await failedSignInRecorded(user);
  t.is((await login(user)).status, 200);
  const [row] = await service.orm.em
    .fork()
    .execute<Array<{ text: string }>>(
      `select string_agg(row_to_json(audit_events)::text, ' ') as text from audit_events where organization_id is null and target_id = ?`,
      [user.id],
    );
  const stored = row?.text ?? '';
  t.true(stored.includes('session.sign_in_failed'));
  t.false(stored.includes(user.password));
  t.false(stored.includes('scrypt'));
  t.false(stored.includes(user.email));
});

test('a sign-in with an unknown email records nothing: there is no user whose chain could hold it', async (t) => {
  const email = `${uniqueName('nobody')}@example.com`;
  t.is((await service.send('POST', '/api/v1/auth/email/login', { email, password: 'whatever-1234' })).status, 401);
  const [row] = await service.orm.em
    .fork()
    .execute<Array<{ n: string }>>(
      `select count(*) as n from audit_events where action like 'session.%' and not exists (select 1 from users where users.id::text = target_id)`,
    );
  t.is(Number(row?.n), 0);
});

test('me/audit-events shows only the caller’s own events, newest first, paged by the Link header', async (t) => {
  const [user, other] = await Promise.all([makeUser(service), makeUser(service)]);
  t.is((await login(user)).status, 200);
  t.is((await login(other)).status, 200);
  const mine = await ownEvents(user);
  t.deepEqual(mine.map((event) => event.position), [2, 1]);
  t.true(mine.every((event) => event.target.id === user.id));
  const first = await as(service, user).get('/api/v1/auth/me/audit-events?limit=1');
  t.deepEqual(((await first.json()) as AuditEventBody[]).map((event) => event.position), [2]);
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
  t.truthy(next);
  const second = await as(service, user).get(next ?? '');
  t.deepEqual(((await second.json()) as AuditEventBody[]).map((event) => event.position), [1]);
  t.is(second.headers.get('link'), null);
  t.is((await ownEvents(user, '?action=session.sign_in_failed')).length, 0);
  t.is((await service.request('/api/v1/auth/me/audit-events')).status, 401);
  t.is((await as(service, user).get('/api/v1/auth/me/audit-events?limit=0')).status, 422);
});

test('a service account’s creation and revocation are recorded once each, by the operator, in its own chain', async (t) => {
  const tenant = await makeTenant(service);
  const { account, revoke } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [tenant.organizationId] });
  const revoked = await revoke();
  await revoke();
  const operator = { type: 'system', id: 'operator' };
  const target = { type: 'service_account', id: account.id };
  const events = await chainEvents('service_account', account.id);
  t.deepEqual(events.map(shape), [
    {
      action: 'service_account.created',
      actor: operator,
      target,
      changes: {
        name: [null, account.name],
        writable_types: [null, ['chatbot']],
        modules: [null, []],
        trusted: [null, false],
        sets_subscription_tiers: [null, false],
        organization_ids: [null, [tenant.organizationId]],
      },
      on_behalf_of: null,
    },
    { action: 'service_account.revoked', actor: operator, target, changes: { revoked_at: [null, revoked.revokedAt?.toISOString()] }, on_behalf_of: null },
  ]);
  t.true(await chainIsIntact('service_account', account.id));
});

test('registering, moving and deleting a resource record one event each, with the service account and the user it acted for', async (t) => {
  const tenant = await makeTenant(service);
  const { owner, organizationId } = tenant;
  const { key, account } = await makeServiceAccount(service, ['chatbot']);
  const created = await as(service, owner).send('POST', `/api/v1/orgs/${organizationId}/workspaces`, { name: 'Bots' });
  const second = ((await created.json()) as { id: string }).id;
  const id = `bot_${organizationId.slice(0, 8)}`;
  const path = `/api/v1/authz/resources/chatbot/${id}`;
  const on = { type: 'user', id: owner.id };
  const actor = { type: 'service_account', id: account.id };
  const target = { type: 'chatbot', id };
  const before = (await orgEvents(owner, organizationId)).length;

  t.is((await service.send('PUT', path, { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: on }, bearer(key))).status, 201);
  // Registered again where it is: nothing changed, nothing recorded.
  t.is((await service.send('PUT', path, { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: on }, bearer(key))).status, 200);
  t.is((await service.send('PUT', path, { parent: { type: 'workspace', id: second }, on_behalf_of: on }, bearer(key))).status, 200);
  // Refused for the plain member: no event.
  t.is((await service.send('DELETE', `${path}?on_behalf_of=user:${tenant.member.id}`, undefined, bearer(key))).status, 403);
  t.is((await service.send('DELETE', `${path}?on_behalf_of=user:${owner.id}`, undefined, bearer(key))).status, 204);
  // The relationship-shaped form goes through the same path.
  t.is(
    (
      await service.send(
        'POST',
        '/api/v1/authz/relationships',
        { relationships: [{ resource: target, relation: 'workspace', subject: { type: 'workspace', id: second } }], on_behalf_of: on },
        bearer(key),
      )
    ).status,
    200,
  );

  const events = (await orgEvents(owner, organizationId)).slice(before);
  t.deepEqual(events.map(shape), [
    { action: 'resource.registered', actor, target, changes: { workspace_id: [null, tenant.workspaceId] }, on_behalf_of: on },
    { action: 'resource.moved', actor, target, changes: { workspace_id: [tenant.workspaceId, second] }, on_behalf_of: on },
    { action: 'resource.deleted', actor, target, changes: { workspace_id: [second, null] }, on_behalf_of: on },
    { action: 'resource.registered', actor, target, changes: { workspace_id: [null, second] }, on_behalf_of: on },
  ]);
});

test('a resource moved to another organization is recorded in both chains; a trusted account’s write names no user', async (t) => {
  const [from, to] = await Promise.all([makeTenant(service), makeTenant(service)]);
  const { key, account } = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const id = `bot_${from.organizationId.slice(0, 8)}_moving`;
  const path = `/api/v1/authz/resources/chatbot/${id}`;
  t.is((await service.send('PUT', path, { parent: { type: 'workspace', id: from.workspaceId } }, bearer(key))).status, 201);
  t.is((await service.send('PUT', path, { parent: { type: 'workspace', id: to.workspaceId } }, bearer(key))).status, 200);
  const moved = {
    action: 'resource.moved',
    actor: { type: 'service_account', id: account.id },
    target: { type: 'chatbot', id },
    changes: { workspace_id: [from.workspaceId, to.workspaceId], organization_id: [from.organizationId, to.organizationId] },
    on_behalf_of: null,
  };
  t.deepEqual((await orgEvents(from.owner, from.organizationId)).slice(-2).map(shape), [
    { ...moved, action: 'resource.registered', changes: { workspace_id: [null, from.workspaceId] } },
    moved,
  ]);
  t.deepEqual((await orgEvents(to.owner, to.organizationId)).slice(-1).map(shape), [moved]);
});
