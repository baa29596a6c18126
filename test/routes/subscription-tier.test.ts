import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { Organization } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTenant, makeUser, type SignedUpUser } from '../support/factories.ts';
import type { AuditEventBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * The subscription tier lifts or lowers every plan limit, so it is not the organization's to set:
 * its owner changes the billing email only; a service account created with --sets-tiers (the
 * billing system, after payment) and the CLI set the tier, and the audit log records who did.
 */

const service = useTestService(test);

const tierPath = (organizationId: string) => `/api/v1/orgs/${organizationId}/subscription-tier`;

async function organizationRow(organizationId: string) {
  const { subscriptionTier, billingEmail, name } = await service.orm.em.fork().findOneOrFail(Organization, { id: organizationId });
  return { subscriptionTier, billingEmail, name };
}

async function auditOf(owner: SignedUpUser): Promise<AuditEventBody[]> {
  const response = await as(service, owner).get(`/api/v1/orgs/${owner.organizationId}/audit-events?limit=200`);
  return (await response.json()) as AuditEventBody[];
}

function billingOf(owner: SignedUpUser) {
  return as(service, owner).get(`/api/v1/orgs/${owner.organizationId}/billing`);
}

test('the owner cannot set the tier: PATCH /orgs/{id} and PATCH …/billing answer 422 on body.subscription_tier, and nothing changes', async (t) => {
  const owner = await makeUser(service);
  const before = { row: await organizationRow(owner.organizationId), audit: await auditOf(owner) };
  for (const [path, body] of [
    [`/api/v1/orgs/${owner.organizationId}/billing`, { subscription_tier: 'enterprise' }],
    [`/api/v1/orgs/${owner.organizationId}/billing`, { subscription_tier: 'enterprise', billing_email: 'finance@example.com' }],
    [`/api/v1/orgs/${owner.organizationId}`, { name: 'Renamed', subscription_tier: 'enterprise' }],
  ] as const) {
    const response = await as(service, owner).send('PATCH', path, body);
    t.is(response.status, 422, path);
    t.like(await response.json(), { errors: [{ field: 'body.subscription_tier', message: 'is not an accepted field' }] }, path);
  }
  t.deepEqual({ row: await organizationRow(owner.organizationId), audit: await auditOf(owner) }, before);
  t.like(await (await billingOf(owner)).json(), { subscription_tier: 'free', limits: { members: 5, workspaces: 3 } });

  const addressed = await as(service, owner).send('PATCH', `/api/v1/orgs/${owner.organizationId}/billing`, { billing_email: 'finance@example.com' });
  t.is(addressed.status, 200, 'the billing email stays the owner’s to change');
  t.like(await organizationRow(owner.organizationId), { subscriptionTier: 'free', billingEmail: 'finance@example.com' });
});

test('a service account created with --sets-tiers sets the tier: the limits follow, and the audit log names the account', async (t) => {
  const owner = await makeUser(service);
  const billing = await makeServiceAccount(service, [], { setsSubscriptionTiers: true });
  const response = await service.send('PUT', tierPath(owner.organizationId), { subscription_tier: 'enterprise' }, bearer(billing.key));
  t.is(response.status, 200);
  t.truthy(response.headers.get('zedtoken'));
  t.deepEqual(await response.json(), { organization_id: owner.organizationId, subscription_tier: 'enterprise', previous_subscription_tier: 'free' });
  t.like(await (await billingOf(owner)).json(), { subscription_tier: 'enterprise', limits: { members: null, workspaces: null } });

  const again = await service.send('PUT', tierPath(owner.organizationId), { subscription_tier: 'enterprise' }, bearer(billing.key));
  t.is(again.status, 200, 'setting the tier it has changes nothing');
  const changes = (await auditOf(owner)).filter((event) => event.action === 'org.billing.updated');
  t.deepEqual(
    changes.map(({ actor, target, changes }) => ({ actor, target, changes })),
    [
      {
        actor: { type: 'service_account', id: billing.account.id },
        target: { type: 'organization', id: owner.organizationId },
        changes: { subscription_tier: ['free', 'enterprise'] },
      },
    ],
  );
});

test('a user’s token, a service account without --sets-tiers and a scoped one outside its organizations get 403 and change nothing; an unknown organization 404', async (t) => {
  const tenant = await makeTenant(service);
  const other = await makeUser(service);
  const before = { row: await organizationRow(tenant.organizationId), audit: await auditOf(tenant.owner) };
  const plain = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const scoped = await makeServiceAccount(service, [], { setsSubscriptionTiers: true, organizationIds: [other.organizationId] });
  const put = (credential: string, organizationId = tenant.organizationId) =>
    service.send('PUT', tierPath(organizationId), { subscription_tier: 'enterprise' }, bearer(credential));

  for (const [who, credential] of [
    ['the owner', tenant.owner.accessToken],
    ['an admin', tenant.admin.accessToken],
    ['a trusted account without --sets-tiers', plain.key],
    ['a tier-setting account scoped to another organization', scoped.key],
  ] as const) {
    const response = await put(credential);
    t.is(response.status, 403, who);
    t.is(response.headers.get('content-type'), 'application/problem+json', who);
  }
  t.deepEqual({ row: await organizationRow(tenant.organizationId), audit: await auditOf(tenant.owner) }, before);

  const billing = await makeServiceAccount(service, [], { setsSubscriptionTiers: true });
  t.is((await put(billing.key, '00000000-0000-4000-8000-00000000dead')).status, 404);
  t.is((await put(scoped.key, other.organizationId)).status, 200, 'in scope, it may');
});

test('the CLI sets the tier, recorded as the operator’s; bad arguments exit 2 and change nothing', async (t) => {
  const owner = await makeUser(service);
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli/main.ts', 'org', ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  for (const args of [['set-tier', owner.organizationId, 'platinum'], ['set-tier', owner.organizationId], ['promote', owner.organizationId, 'pro']]) {
    t.is((await cli(...args)).code, 2, args.join(' '));
  }
  t.is((await cli('set-tier', '00000000-0000-4000-8000-00000000dead', 'pro')).code, 1, 'an unknown organization');
  t.is((await organizationRow(owner.organizationId)).subscriptionTier, 'free');

  const set = await cli('set-tier', owner.organizationId.toUpperCase(), 'pro');
  t.is(set.code, 0);
  t.is(set.stdout.trim(), `${owner.organizationId}: free -> pro`);
  t.like(await (await billingOf(owner)).json(), { subscription_tier: 'pro', limits: { members: 50, workspaces: 20 } });
  const [latest] = await auditOf(owner);
  t.like(latest, { action: 'org.billing.updated', actor: { type: 'system', id: 'operator' }, changes: { subscription_tier: ['free', 'pro'] } });
});
