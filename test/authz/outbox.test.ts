import { randomUUID } from 'node:crypto';
import test from 'ava';
import { OutboxRelay } from '../../src/authz/outbox-relay.ts';
import { connectSpiceDb } from '../../src/authz/spicedb.client.ts';
import type { Relationship } from '../../src/authz/types.ts';
import { loadConfig } from '../../src/config.ts';
import { RelationshipOutboxEntry } from '../../src/db/entities/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { eventually } from '../support/eventually.ts';
import { makeUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

// Serial: some cases stop the shared relay to look at the outbox without it.
const service = useTestService(test, { environment: { OUTBOX_POLL_MS: '50' } });

/** A grant of `workspace:<id>#viewer` that no route has made: only the outbox can deliver it. */
async function viewerGrant(): Promise<{ relationship: Relationship; organizationId: string }> {
  const owner = await makeUser(service);
  const viewer = await makeUser(service);
  return {
    organizationId: owner.organizationId,
    relationship: {
      resource: { type: 'workspace', id: owner.workspaceId },
      relation: 'viewer',
      subject: { type: 'user', id: viewer.id },
    },
  };
}

/** Whether the tuple is in SpiceDB (its relation, checked directly: the viewer is no member of the organization, so `view` would deny). */
async function granted({ resource, relation, subject }: Relationship): Promise<boolean> {
  const result = await service.spicedb.checkPermission({ resource, permission: relation, subject }, { kind: 'fully_consistent' });
  return result.allowed;
}

test.serial('a grant committed but never delivered (the process died after commit) is delivered by the relay', async (t) => {
  const { relationship, organizationId } = await viewerGrant();
  await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [relationship], organizationId));
  // No deliver() call: as if the process had been killed right after the commit.
  t.true(await eventually(() => granted(relationship)));
  t.true(await eventually(async () => (await service.orm.em.fork().count(RelationshipOutboxEntry, {})) === 0));
});

test.serial('delivering a grant records its ZedToken on the organization', async (t) => {
  const { relationship, organizationId } = await viewerGrant();
  const ids = await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [relationship], organizationId));
  const token = await service.relay.deliver(ids, organizationId);
  t.truthy(token);
  const [row] = await service.orm.em.fork().execute<Array<{ zed_token: string }>>(
    'select zed_token from organizations where id = ?',
    [organizationId],
  );
  t.is(row?.zed_token ?? null, token);
});

test.serial('a later change of the same tuple supersedes a pending grant, so the old grant is never delivered', async (t) => {
  const { relationship, organizationId } = await viewerGrant();
  await service.relay.stop();
  t.teardown(() => service.relay.start());
  await service.orm.em.fork().transactional(async (em) => {
    await service.outbox.enqueueGrants(em, [relationship], organizationId);
  });
  await service.orm.em.fork().transactional((em) => service.outbox.supersedePending(em, [relationship]));
  await service.relay.drain();
  t.false(await granted(relationship));
});

test.serial('when SpiceDB cannot be reached, rows stay with a backoff and are delivered once it answers', async (t) => {
  const { relationship, organizationId } = await viewerGrant();
  await service.relay.stop();
  t.teardown(() => service.relay.start());
  const metrics = new Metrics();
  const unreachable = await connectSpiceDb(
    loadConfig({ SPICEDB_ENDPOINT: '127.0.0.1:1', SPICEDB_PRESHARED_KEY: 'k', SPICEDB_INSECURE: 'true', SPICEDB_TIMEOUT_MS: '300' }).spicedb,
    metrics,
  );
  t.teardown(() => unreachable.close());
  const failing = new OutboxRelay(service.orm, unreachable, metrics, createLogger('silent'), 50);

  const [id] = await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [relationship], organizationId));
  t.is(await failing.drain(), 0);
  const row = await service.orm.em.fork().findOneOrFail(RelationshipOutboxEntry, { id: String(id) });
  t.is(row.attempts, 1);
  t.truthy(row.lastError);
  t.true(row.nextAttemptAt > new Date(), 'the next attempt waits');
  t.is(await failing.drain(), 0, 'not retried before its time: no hot loop');

  await service.orm.em.fork().nativeUpdate(RelationshipOutboxEntry, { id: String(id) }, { nextAttemptAt: new Date(0) });
  t.true((await service.relay.drain()) >= 1);
  t.true(await granted(relationship));
});

test.serial('rows of an organization a revocation holds wait, while rows of other organizations go', async (t) => {
  const [held, free] = [await viewerGrant(), await viewerGrant()];
  await service.relay.stop();
  t.teardown(() => service.relay.start());
  for (const grant of [held, free]) {
    await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [grant.relationship], grant.organizationId));
  }
  await service.orm.em.fork().transactional(async (em) => {
    await em.execute('select id from organizations where id = ? for update', [held.organizationId]);
    await service.relay.drain();
  });
  t.true(await granted(free.relationship));
  t.false(await granted(held.relationship));
  await service.relay.drain();
  t.true(await granted(held.relationship), 'delivered once the lock is gone');
});

test.serial('a row SpiceDB refuses is postponed alone and does not hold up the rest of its batch', async (t) => {
  const good = await viewerGrant();
  await service.relay.stop();
  t.teardown(() => service.relay.start());
  const refused: Relationship = { ...good.relationship, relation: 'no_such_relation' };
  await service.orm.em.fork().transactional((em) =>
    service.outbox.enqueueGrants(em, [refused, good.relationship], good.organizationId),
  );
  t.is(await service.relay.drain(), 1);
  t.true(await granted(good.relationship));
  const left = await service.orm.em.fork().find(RelationshipOutboxEntry, { organizationId: good.organizationId });
  t.deepEqual(left.map((row) => [row.relation, row.attempts]), [['no_such_relation', 1]]);
  await service.orm.em.fork().nativeDelete(RelationshipOutboxEntry, { organizationId: good.organizationId });
});

test.serial("a grant the relay delivers keeps its subject set and its expiry", async (t) => {
  const { relationship, organizationId } = await viewerGrant();
  const expiresAt = new Date(Date.now() + 3_600_000);
  const teamRole: Relationship = {
    resource: relationship.resource,
    relation: 'editor',
    subject: { type: 'team', id: randomUUID(), relation: 'member' },
    expiresAt,
  };
  await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [teamRole], organizationId));
  // No deliver() call: only the relay, reading the row back, can write it.
  const delivered = async () =>
    (await service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: relationship.resource.id, relation: 'editor' }));
  t.true(await eventually(async () => (await delivered()).length === 1));
  t.deepEqual(await delivered(), [teamRole]);
});

test.serial("deleting a team drops pending grants that name it, so none lands after the deletion", async (t) => {
  const owner = await makeUser(service);
  const team = await seed(service, ({ teams }) => teams.create(owner.id, owner.organizationId, { name: 'Doomed' }));
  const teamRole: Relationship = {
    resource: { type: 'workspace', id: owner.workspaceId },
    relation: 'viewer',
    subject: { type: 'team', id: team.result.id, relation: 'member' },
  };
  await service.relay.stop();
  t.teardown(() => service.relay.start());
  await service.orm.em.fork().transactional((em) => service.outbox.enqueueGrants(em, [teamRole], owner.organizationId));
  await seed(service, ({ teams }) => teams.delete(owner.id, team.result.id));
  await service.relay.drain();
  t.false(await granted(teamRole));
  t.is(await service.orm.em.fork().count(RelationshipOutboxEntry, { subjectId: team.result.id }), 0);
});
