import test from 'ava';
import type { Relationship } from '../../src/authz/types.ts';
import { ResourceGrant } from '../../src/db/entities/index.ts';
import { bearer, makeServiceAccount, makeUser, onBehalfOf, type SignedUpUser } from '../support/factories.ts';
import { allowed, userMay } from '../support/checks.ts';
import { waitUntilExpired } from '../support/expiry.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Expiring grants: `expires_at` becomes the tuple's SpiceDB expiration, so checks deny once it
 * passes with no job having to run. The waits below are correctness, not timing (see
 * waitUntilExpired).
 */

const service = useTestService(test);

const grantsPath = (id: string) => `/api/v1/authz/resources/chatbot/${id}/grants`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A registered chatbot of a fresh tenant, an account to share it with, and the `on_behalf_of` of
 * its owner, for whom the account writes.
 */
async function sharedBot(label: string): Promise<{ id: string; key: string; owner: SignedUpUser; forOwner: { type: 'user'; id: string } }> {
  const owner = await makeUser(service);
  const forOwner = onBehalfOf(owner);
  const { key } = await makeServiceAccount(service);
  const id = `bot_${owner.organizationId.slice(0, 8)}_${label}`;
  const parent = { type: 'workspace', id: owner.workspaceId };
  const registered = await service.send('PUT', `/api/v1/authz/resources/chatbot/${id}`, { parent, on_behalf_of: forOwner }, bearer(key));
  if (registered.status !== 201) throw new Error(`registering answered ${registered.status}`);
  return { id, key, owner, forOwner };
}

const can = (permission: string, id: string, user: { id: string }) => allowed(service, userMay(permission, { type: 'chatbot', id }, user));

async function grantTuples(id: string): Promise<Relationship[]> {
  return (await service.spicedb.readRelationships({ resourceType: 'chatbot', resourceId: id })).filter((tuple) => tuple.relation !== 'workspace');
}

test('an expiring grant allows until expires_at, then checks deny with no job having run; the list drops it', async (t) => {
  const { id, key, forOwner } = await sharedBot('expiring');
  const guest = await makeUser(service);
  const expiresAt = new Date(Date.now() + 3_000);
  const granted = await service.send('POST', grantsPath(id), { subject: { type: 'user', id: guest.id }, role: 'editor', expires_at: expiresAt.toISOString(), on_behalf_of: forOwner }, bearer(key));
  t.is(granted.status, 201);
  t.like(await granted.json(), { expires_at: expiresAt.toISOString() });
  t.true(await can('edit', id, guest));
  t.deepEqual((await grantTuples(id)).map((tuple) => tuple.expiresAt?.toISOString()), [expiresAt.toISOString()]);

  await waitUntilExpired(service, expiresAt);
  t.false(await can('edit', id, guest));
  t.false(await can('view', id, guest));
  t.is(await service.orm.em.fork().count(ResourceGrant, { resourceId: id }), 1, 'nothing deleted the row: the expiry alone denies');
  t.deepEqual(await (await service.request(grantsPath(id), { headers: bearer(key) })).json(), []);
  const revoked = await service.send('DELETE', grantsPath(id), { subject: { type: 'user', id: guest.id }, role: 'editor', on_behalf_of: forOwner }, bearer(key));
  t.is(revoked.status, 404, 'an expired grant is gone: nothing to revoke');

  const again = await service.send('POST', grantsPath(id), { subject: { type: 'user', id: guest.id }, role: 'editor', on_behalf_of: forOwner }, bearer(key));
  t.is(again.status, 201, 'granting again after the expiry is a new grant');
  t.true(await can('edit', id, guest));
});

test('public access can expire too', async (t) => {
  const { id, key, forOwner } = await sharedBot('public_expiring');
  const anyone = await makeUser(service);
  const expiresAt = new Date(Date.now() + 3_000);
  const granted = await service.send('POST', grantsPath(id), { subject: { type: 'user', id: '*' }, role: 'viewer', expires_at: expiresAt.toISOString(), on_behalf_of: forOwner }, bearer(key));
  t.is(granted.status, 201);
  t.true(await can('view', id, anyone));
  await waitUntilExpired(service, expiresAt);
  t.false(await can('view', id, anyone));
});

test('granting again replaces the expiry: earlier, later, or none', async (t) => {
  const { id, key, forOwner } = await sharedBot('re_expired');
  const guest = await makeUser(service);
  const expiries = async () => (await grantTuples(id)).map((tuple) => tuple.expiresAt?.toISOString() ?? 'never');
  const grant = (expiresAt?: Date) =>
    service.send(
      'POST',
      grantsPath(id),
      { subject: { type: 'user', id: guest.id }, role: 'viewer', ...(expiresAt && { expires_at: expiresAt.toISOString() }), on_behalf_of: forOwner },
      bearer(key),
    );
  const hour = 60 * 60 * 1000;
  const [later, earlier] = [new Date(Date.now() + 2 * hour), new Date(Date.now() + hour)];

  t.is((await grant(later)).status, 201);
  t.deepEqual(await expiries(), [later.toISOString()]);
  t.is((await grant(earlier)).status, 200);
  t.deepEqual(await expiries(), [earlier.toISOString()]);
  t.is((await grant()).status, 200);
  t.deepEqual(await expiries(), ['never']);
  const [listed] = (await (await service.request(grantsPath(id), { headers: bearer(key) })).json()) as Array<{ expires_at: string | null }>;
  t.is(listed?.expires_at, null);
});

test('the expiry survives the outbox: a grant the relay delivers, not the request, still expires', async (t) => {
  const { id, owner } = await sharedBot('relayed');
  const guest = await makeUser(service);
  const expiresAt = new Date(Date.now() + 60 * 60 * 1000);
  const grant: Relationship = {
    resource: { type: 'chatbot', id },
    relation: 'viewer',
    subject: { type: 'user', id: guest.id },
    expiresAt,
  };
  // Enqueued and committed, never delivered by the request: as if the process had died after the commit.
  await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [grant], owner.organizationId));
  for (let attempt = 0; attempt < 100 && (await grantTuples(id)).length === 0; attempt++) await sleep(50);
  t.deepEqual((await grantTuples(id)).map((tuple) => tuple.expiresAt?.toISOString()), [expiresAt.toISOString()]);
});
