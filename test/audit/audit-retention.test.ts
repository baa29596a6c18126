import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { appendSubjectAuditEvent, organizationChain } from '../../src/audit/audit-log.ts';
import { pruneAuditEvents, retentionCutoff } from '../../src/audit/audit-retention.ts';
import { verifyAuditChains } from '../../src/audit/audit-verify.ts';
import type { Orm } from '../../src/db/orm.ts';
import { loadAuditEvents } from '../support/audit-load.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

const service = useTestService(test);
// Serial: a prune takes every chain past the cutoff, so one test's prune would reach into another's chains mid-test.

const DAY = 24 * 3600 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/** A chain of its own: 30 events from 40 days ago, 5 from 10 days ago, 5 from now. */
async function chainWithHistory(orm: Orm = service.orm): Promise<string> {
  const organizationId = randomUUID();
  await loadAuditEvents(orm, organizationId, 30, { occurredAt: daysAgo(40) });
  await loadAuditEvents(orm, organizationId, 5, { occurredAt: daysAgo(10) });
  await loadAuditEvents(orm, organizationId, 5);
  return organizationId;
}

async function positionsOf(organizationId: string, orm: Orm = service.orm): Promise<number[]> {
  const rows = await orm.em.fork().execute<Array<{ position: string }>>('select position from audit_events where organization_id = ? order by position', [organizationId]);
  return rows.map((row) => Number(row.position));
}

async function verify(organizationId: string, orm: Orm = service.orm) {
  const [report] = await verifyAuditChains(orm, organizationChain(organizationId));
  return report;
}

async function tamper(sql: string, params: unknown[]): Promise<void> {
  await service.orm.em.fork().transactional(async (em) => {
    await em.execute("set local session_replication_role = 'replica'");
    await em.execute(sql, params);
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

test.serial('pruning removes the events past retention, anchors the chain at the last one, and the chain still verifies', async (t) => {
  const organizationId = await chainWithHistory();
  const pruned = await pruneAuditEvents(service.orm, retentionCutoff(30));
  t.like(pruned.find((chain) => chain.chain === `organization:${organizationId}`), { anchoredAt: 30, deleted: 30 });
  t.deepEqual(await positionsOf(organizationId), range(31, 40));
  t.deepEqual(await verify(organizationId), { chain: `organization:${organizationId}`, events: 10, broken: null });
  // Pruning again finds nothing more to do.
  t.falsy((await pruneAuditEvents(service.orm, retentionCutoff(30))).find((chain) => chain.chain === `organization:${organizationId}`));
});

test.serial('a user’s session chain is pruned and anchored the same way', async (t) => {
  const userId = randomUUID();
  const signIn = { actor: { type: 'user' as const, id: userId }, action: 'session.signed_in', target: { type: 'user', id: userId } };
  for (const occurredAt of [daysAgo(40), daysAgo(40), new Date()]) {
    await service.orm.em.fork().transactional((em) => appendSubjectAuditEvent(em, signIn, { occurredAt }));
  }
  const pruned = await pruneAuditEvents(service.orm, retentionCutoff(30));
  t.like(pruned.find((chain) => chain.chain === `user:${userId}`), { anchoredAt: 2, deleted: 2 });
  const [report] = await verifyAuditChains(service.orm, { type: 'user', id: userId });
  t.deepEqual(report, { chain: `user:${userId}`, events: 1, broken: null });
});

test.serial('after pruning, an edited or deleted event is still caught', async (t) => {
  const edited = await chainWithHistory();
  const deleted = await chainWithHistory();
  await pruneAuditEvents(service.orm, retentionCutoff(30));
  await tamper(`update audit_events set changes = '{"n": [null, -1]}' where organization_id = ? and position = 35`, [edited]);
  t.like((await verify(edited))?.broken, { position: 35 });
  // The first event after the anchor goes: the chain no longer starts where the anchor says.
  await tamper('delete from audit_events where organization_id = ? and position = 31', [deleted]);
  t.like((await verify(deleted))?.broken, { position: 31 });
});

test.serial('a chain pruned whole goes on from its anchor', async (t) => {
  const organizationId = randomUUID();
  await loadAuditEvents(service.orm, organizationId, 12, { occurredAt: daysAgo(40) });
  await pruneAuditEvents(service.orm, retentionCutoff(30));
  t.deepEqual(await positionsOf(organizationId), []);
  await loadAuditEvents(service.orm, organizationId, 2);
  t.deepEqual(await positionsOf(organizationId), [13, 14]);
  t.deepEqual(await verify(organizationId), { chain: `organization:${organizationId}`, events: 2, broken: null });
});

test.serial('the application role cannot delete events outside a prune, nor below no anchor, nor rewrite anchors', async (t) => {
  const organizationId = await chainWithHistory();
  const em = service.orm.em.fork();
  await t.throwsAsync(em.execute('delete from audit_events where organization_id = ? and position = 1', [organizationId]), { message: /append-only/ });
  // The prune flag alone is not enough: no anchor covers the event.
  await t.throwsAsync(
    em.transactional(async (tx) => {
      await tx.execute(`set local tenant_authz.audit_prune = 'on'`);
      await tx.execute('delete from audit_events where organization_id = ? and position = 1', [organizationId]);
    }),
    { message: /append-only/ },
  );
  const key = `organization:${organizationId}`;
  await t.throwsAsync(em.execute('insert into audit_chain_anchors (chain, position, hash) values (?, 5, ?)', [key, 'f'.repeat(64)]), {
    message: /must name an event of its chain/,
  });
  await pruneAuditEvents(service.orm, retentionCutoff(30));
  const [event] = await em.execute<Array<{ hash: string }>>('select hash from audit_events where organization_id = ? and position = 35', [organizationId]);
  await t.throwsAsync(em.execute('insert into audit_chain_anchors (chain, position, hash) values (?, 20, ?)', [key, event?.hash]), {
    message: /move its chain forward/,
  });
  await t.throwsAsync(em.execute('update audit_chain_anchors set position = 40 where chain = ?', [key]), { message: /insert-only/ });
  await t.throwsAsync(em.execute('delete from audit_chain_anchors where chain = ?', [key]), { message: /insert-only/ });
  t.deepEqual(await positionsOf(organizationId), range(31, 40));
});

test.serial('npm run cli -- audit prune prunes by AUDIT_RETENTION_DAYS, and keeps everything when it is unset', async (t) => {
  const organizationId = await chainWithHistory();
  const cli = (environment: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['src/cli/main.ts', 'audit', 'prune'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: service.database.url, LOG_LEVEL: 'silent', ...environment },
    });
  t.regex((await cli({})).stdout, /kept forever/);
  t.is((await positionsOf(organizationId)).length, 40);
  const { stdout } = await cli({ AUDIT_RETENTION_DAYS: '30' });
  t.regex(stdout, new RegExp(`pruned organization:${organizationId}: 30 events, anchored at position 30`));
  t.deepEqual(await positionsOf(organizationId), range(31, 40));
  t.is((await verify(organizationId))?.broken, null);
});

test.serial('a service with AUDIT_RETENTION_DAYS prunes on its own', async (t) => {
  const database = await createTestDatabase();
  try {
    const before = await startTestService({ database });
    const organizationId = await chainWithHistory(before.orm).finally(() => before.stop());
    const after = await startTestService({ database, environment: { AUDIT_RETENTION_DAYS: '7' } });
    try {
      // Its first prune runs in the background right after boot.
      const deadline = Date.now() + 30_000;
      while ((await positionsOf(organizationId, after.orm))[0] !== 36 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      t.deepEqual(await positionsOf(organizationId, after.orm), range(36, 40));
      t.is((await verify(organizationId, after.orm))?.broken, null);
    } finally {
      await after.stop();
    }
  } finally {
    await database.drop();
  }
});
