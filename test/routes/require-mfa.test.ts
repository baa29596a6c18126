import test from 'ava';
import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { reconcile } from '../../src/authz/reconcile.ts';
import { as, makeTenant, type SignedUpUser } from '../support/factories.ts';
import type { SwitchedBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/** An organization's `require_mfa` (docs/tenant-api.md, "Second factor (TOTP)"): a member without a factor holds nothing there, and the answers say why. */

const service = useTestService(test);

/** Enrols and confirms a TOTP factor; answers the secret. */
async function enrol(user: SignedUpUser): Promise<string> {
  const started = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp');
  const { secret } = (await started.json()) as { secret: string };
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() - 30_000 });
  const confirmed = await as(service, user).send('POST', '/api/v1/auth/me/mfa/totp/confirm', { code });
  if (confirmed.status !== 200) throw new Error(`confirmation answered ${confirmed.status}`);
  return secret;
}

function requireMfa(user: SignedUpUser, organizationId: string, on: boolean) {
  return as(service, user).send('PATCH', `/api/v1/orgs/${organizationId}`, { require_mfa: on });
}

async function requirementTuples(organizationId: string): Promise<string[]> {
  const tuples = await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: organizationId });
  return tuples.filter((tuple) => tuple.relation.startsWith('mfa_')).map((tuple) => `${tuple.relation}@${tuple.subject.type}:${tuple.subject.id}`).sort();
}

/** A user asks the authorization API about themselves: the answer, without its ZedToken. */
async function checkOf(user: SignedUpUser, resource: { type: string; id: string }, permission: string) {
  const response = await as(service, user).send('POST', '/api/v1/authz/check', { resource, permission, subject: { type: 'user', id: user.id } });
  const { checked_at: _checkedAt, ...answer } = (await response.json()) as Record<string, unknown>;
  return answer;
}

async function organizationOf(user: SignedUpUser, organizationId: string) {
  const response = await as(service, user).get(`/api/v1/orgs/${organizationId}`);
  return { status: response.status, requireMfa: response.status === 200 ? ((await response.json()) as { require_mfa: boolean }).require_mfa : undefined };
}

test('require_mfa takes org:update, and a factor of your own to turn it on; a refusal changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const { organizationId } = tenant;
  t.is((await requireMfa(tenant.member, organizationId, true)).status, 403, 'a member lacks org:update');
  t.is((await requireMfa(tenant.stranger, organizationId, true)).status, 403);
  const withoutFactor = await requireMfa(tenant.admin, organizationId, true);
  t.is(withoutFactor.status, 409, 'it would lock the admin out');
  t.deepEqual(await requirementTuples(organizationId), []);
  t.deepEqual(await organizationOf(tenant.owner, organizationId), { status: 200, requireMfa: false });

  await enrol(tenant.admin);
  t.is((await requireMfa(tenant.admin, organizationId, true)).status, 200);
  t.deepEqual(await organizationOf(tenant.admin, organizationId), { status: 200, requireMfa: true });
  t.deepEqual(await requirementTuples(organizationId), ['mfa_registry@mfa_registry:enrolled', 'mfa_required@user:*']);
  const events = await as(service, tenant.admin).get(`/api/v1/orgs/${organizationId}/audit-events?action=org.updated`);
  t.true(JSON.stringify(await events.json()).includes('"require_mfa":[false,true]'));
  const drift = await reconcile(service.orm, service.spicedb, { fix: false });
  const named = (tuples: Array<{ resource: { id: string }; subject: { id: string } }>) =>
    tuples.filter((tuple) => tuple.resource.id === organizationId || tuple.subject.id === tenant.admin.id);
  t.deepEqual({ missing: named(drift.missing), extra: named(drift.extra) }, { missing: [], extra: [] }, 'reconcile knows the requirement');
});

test('a member without a factor holds nothing there, owner included; switch-context says why; enrolling gives the roles back', async (t) => {
  const tenant = await makeTenant(service);
  const { organizationId, owner, admin, member } = tenant;
  await enrol(admin);
  t.is((await requireMfa(admin, organizationId, true)).status, 200);

  t.is((await organizationOf(member, organizationId)).status, 403);
  t.is((await organizationOf(owner, organizationId)).status, 403, 'the owner too');
  t.is((await as(service, owner).send('PATCH', `/api/v1/orgs/${organizationId}`, { name: 'Renamed without a factor' })).status, 403);
  t.is((await organizationOf(admin, organizationId)).status, 200, 'a member with a factor keeps their role');
  t.is((await as(service, tenant.stranger).get(`/api/v1/orgs/${organizationId}`)).status, 403);

  const switched = await as(service, member).send('POST', '/api/v1/auth/switch-context', { org_id: organizationId });
  t.is(switched.status, 200);
  const body = (await switched.json()) as SwitchedBody;
  t.is(body.reason, 'mfa_enrollment_required');
  t.deepEqual(body.context, { org_id: organizationId, workspace_id: null });
  t.deepEqual(decodeJwt(body.access_token).permissions, []);
  t.is((await as(service, { accessToken: body.access_token }).get(`/api/v1/orgs/${organizationId}`)).status, 403);

  const stranger = await as(service, tenant.stranger).send('POST', '/api/v1/auth/switch-context', { org_id: organizationId });
  t.is(stranger.status, 403, 'a stranger is told nothing');

  t.deepEqual(await checkOf(member, { type: 'organization', id: organizationId }, 'org:view'), { allowed: false, reason: 'mfa_enrollment_required' });
  t.deepEqual(await checkOf(owner, { type: 'workspace', id: tenant.workspaceId }, 'workspace:update'), { allowed: false, reason: 'mfa_enrollment_required' });
  t.deepEqual(await checkOf(tenant.stranger, { type: 'organization', id: organizationId }, 'org:view'), { allowed: false }, 'no reason for a stranger');

  await enrol(member);
  t.is((await organizationOf(member, organizationId)).status, 200);
  const again = (await (await as(service, member).send('POST', '/api/v1/auth/switch-context', { org_id: organizationId })).json()) as SwitchedBody;
  t.is(again.reason, null);
  t.deepEqual(await checkOf(member, { type: 'organization', id: organizationId }, 'org:view'), { allowed: true });
  t.true((decodeJwt(again.access_token).permissions as string[]).includes('org:view'));
});

test("disabling one's factor takes the roles away at once; turning require_mfa off gives them back", async (t) => {
  const tenant = await makeTenant(service);
  const { organizationId, admin, member } = tenant;
  const adminSecret = await enrol(admin);
  const memberSecret = await enrol(member);
  t.is((await requireMfa(admin, organizationId, true)).status, 200);
  t.is((await organizationOf(member, organizationId)).status, 200);

  const code = new TOTP({ secret: Secret.fromBase32(memberSecret) }).generate();
  t.is((await as(service, member).send('DELETE', '/api/v1/auth/me/mfa/totp', { code })).status, 204);
  t.is((await organizationOf(member, organizationId)).status, 403, 'in force on the answer');
  t.is((await as(service, member).get(`/api/v1/workspaces/${tenant.workspaceId}`)).status, 403);

  t.is((await requireMfa(admin, organizationId, false)).status, 200);
  t.deepEqual(await requirementTuples(organizationId), []);
  t.is((await organizationOf(member, organizationId)).status, 200);
  t.truthy(adminSecret);
});

test('bad input for require_mfa answers 422 and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  for (const value of ['yes', 1, null]) {
    const response = await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { require_mfa: value });
    t.is(response.status, 422, String(value));
  }
  t.deepEqual(await organizationOf(tenant.owner, tenant.organizationId), { status: 200, requireMfa: false });
});
