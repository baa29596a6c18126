import test from 'ava';
import { reconcile } from '../../src/authz/reconcile.ts';
import { workspaceRoleTuple } from '../../src/authz/relationships.ts';
import { RelationshipOutboxEntry, User, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { bearer, makeServiceAccount, makeUser, onBehalfOf } from '../support/factories.ts';
import { cacheHits } from '../support/metrics.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { twoInstances, untilHeard, writesHeard } from '../support/two-instances.ts';
import { startTestService } from '../support/test-service.ts';
import type { CheckBody } from '../support/responses.ts';

const withServer = canRunSpiceDbServer ? test : test.skip;

withServer('two instances on one database deliver each outbox row exactly once, and the graph matches Postgres', async (t) => {
  const spicedb = await startSpiceDbServer();
  t.teardown(() => spicedb.stop());
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const environment = { SPICEDB_ENDPOINT: spicedb.endpoint, SPICEDB_PRESHARED_KEY: spicedb.presharedKey, SPICEDB_INSECURE: 'true' };
  const [first, second] = [
    await startTestService({ database, environment }),
    await startTestService({ database, environment }),
  ];
  t.teardown(async () => {
    await first.stop();
    await second.stop();
  });
  const owner = await makeUser(first);
  await first.relay.stop();
  await second.relay.stop();

  // Grants committed across several transactions, none delivered yet.
  const em = first.orm.em.fork();
  const workspace = await em.findOneOrFail(Workspace, { id: owner.workspaceId });
  for (let transaction = 0; transaction < 6; transaction++) {
    await em.fork().transactional(async (tx) => {
      const memberships = Array.from({ length: 20 }, (_, index) => {
        const user = new User(`u${transaction}_${index}_${owner.id.slice(0, 6)}`, `u${transaction}_${index}_${owner.id.slice(0, 6)}@example.com`, 'x');
        return new WorkspaceMembership(tx.getReference(Workspace, workspace.id), user, 'viewer');
      });
      tx.persist(memberships);
      await tx.flush();
      await first.outbox.enqueueGrants(tx, memberships.map(workspaceRoleTuple), owner.organizationId);
    });
  }

  const delivered = await Promise.all([first.relay.drain(), second.relay.drain(), first.relay.drain(), second.relay.drain()]);
  // Racing drains can each claim part of the rows while only one holds the organization's lock:
  // the other leaves its part for the next cycle, as the polling relay would pick it up.
  for (let cycle = 0; cycle < 10 && (await em.fork().count(RelationshipOutboxEntry, {})) > 0; cycle++) {
    delivered.push(await second.relay.drain());
  }
  t.is(delivered.reduce((sum, count) => sum + count, 0), 120, 'every row delivered once, none twice');
  t.is(await em.fork().count(RelationshipOutboxEntry, {}), 0);
  t.deepEqual(await reconcile(first.orm, first.spicedb, { fix: false }), { missing: [], extra: [] });
});

withServer("a default check on one instance sees another instance's write as soon as it has heard of it", async (t) => {
  const [writer, reader] = await twoInstances(t, 'postgres');
  const owner = await makeUser(writer);
  const { key } = await makeServiceAccount(writer, ['chatbot']);
  const steady = { type: 'chatbot', id: 'bot_steady' };
  const checkSteady = async () => {
    const response = await reader.send('POST', '/api/v1/authz/check', { resource: steady, permission: 'view', subject: { type: 'user', id: owner.id } }, bearer(key));
    return ((await response.json()) as CheckBody).allowed;
  };
  const heardBefore = await writesHeard(reader);
  const forOwner = onBehalfOf(owner);
  const registered = await writer.send(
    'POST',
    '/api/v1/authz/relationships',
    { relationships: [{ resource: steady, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }], on_behalf_of: forOwner },
    bearer(key),
  );
  t.is(registered.status, 200);
  await untilHeard(reader, heardBefore);
  t.true(await checkSteady());
  const hitsBefore = await cacheHits(reader);

  for (let round = 0; round < 3; round++) {
    const chatbot = { type: 'chatbot', id: `bot_${round}` };
    const relationships = [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }];
    const check = async () => {
      const response = await reader.send('POST', '/api/v1/authz/check', { resource: chatbot, permission: 'view', subject: { type: 'user', id: owner.id } }, bearer(key));
      return ((await response.json()) as CheckBody).allowed;
    };
    t.false(await check(), `round ${round}: before the registration, a denial the reader keeps`);
    let heard = await writesHeard(reader);
    t.is((await writer.send('POST', '/api/v1/authz/relationships', { relationships, on_behalf_of: forOwner }, bearer(key))).status, 200);
    await untilHeard(reader, heard);
    t.true(await check(), `round ${round}: the registration`);
    t.true(await check(), `round ${round}: the registration, from the reader's decision cache`);

    heard = await writesHeard(reader);
    t.is((await writer.send('DELETE', '/api/v1/authz/relationships', { relationships, on_behalf_of: forOwner }, bearer(key))).status, 200);
    await untilHeard(reader, heard);
    t.false(await check(), `round ${round}: the removal`);
  }
  const hitsAfterRounds = await cacheHits(reader);
  t.true(await checkSteady());
  t.is(await cacheHits(reader), hitsAfterRounds + 1, "the writer's registrations elsewhere left the reader's cached allow on another chatbot in place");
  t.true(hitsAfterRounds > hitsBefore);
});
