import test from 'ava';
import { reconcile } from '../../src/authz/reconcile.ts';
import { workspaceRoleTuple } from '../../src/authz/relationships.ts';
import { RelationshipOutboxEntry, User, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { signUp } from '../support/factories.ts';
import { canRunSpiceDbServer, startSpiceDbServer } from '../support/spicedb-server.ts';
import { startTestService } from '../support/test-service.ts';

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
  const owner = await signUp(first);
  await first.outbox.stop();
  await second.outbox.stop();

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

  const delivered = await Promise.all([first.outbox.drain(), second.outbox.drain(), first.outbox.drain(), second.outbox.drain()]);
  t.is(delivered.reduce((sum, count) => sum + count, 0), 120, 'every row delivered once, none twice');
  t.is(await em.fork().count(RelationshipOutboxEntry, {}), 0);
  t.deepEqual(await reconcile(first.orm, first.spicedb, { fix: false }), { missing: [], extra: [] });
});
