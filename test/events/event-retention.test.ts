import test from 'ava';
import { retentionCutoff } from '../../src/audit/audit-retention.ts';
import { eventRetention, pruneEvents } from '../../src/events/event-retention.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { eventually } from '../support/eventually.ts';
import { FeedReader, feedPage } from '../support/events.ts';
import { bearer, makeServiceAccount, makeUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

// Its own database: a prune deletes a prefix of the whole feed.
const service = useTestService(test, { environment: { EVENTS_RETENTION_DAYS: '30' } });

async function backdate(organizationId: string, days: number): Promise<void> {
  await service.orm.em.fork().execute(`update events set occurred_at = now() - (? * interval '1 day') where organization_id = ?`, [days, organizationId]);
}

test.serial('a cursor older than the retention answers 410 with what to do; the feed then starts at the oldest event kept', async (t) => {
  const { key } = await makeServiceAccount(service, []);
  const old = await makeUser(service);
  await seed(service, ({ organizations }) => organizations.update(old.id, old.organizationId, { name: 'Old and renamed' }));
  const recent = await makeUser(service);
  const reader = new FeedReader(service, key);
  const before = await reader.until((read) => read.some((event) => event.organization_id === recent.organizationId));
  const oldest = before.find((event) => event.organization_id === old.organizationId);
  const kept = before.find((event) => event.organization_id === recent.organizationId);
  await backdate(old.organizationId, 31);

  const pruned = await pruneEvents(service.orm, retentionCutoff(30));
  t.true(pruned.deleted >= 1);

  const gone = await service.request(`/api/v1/events?after=${oldest?.cursor ?? ''}`, { headers: bearer(key) });
  t.is(gone.status, 410);
  t.is(gone.headers.get('content-type'), 'application/problem+json');
  const problem = (await gone.json()) as { detail: string };
  t.regex(problem.detail, /kept 30 days/);
  t.regex(problem.detail, /without `after`/);

  const restart = await feedPage(service, key);
  t.false(restart.events.some((event) => event.organization_id === old.organizationId));
  const remaining = new Set((await service.orm.em.fork().execute<Array<{ id: string }>>('select id from events')).map((row) => row.id));
  t.deepEqual(
    restart.events.map((event) => event.id),
    before.filter((event) => remaining.has(event.id)).map((event) => event.id),
  );
  t.true(remaining.has(kept?.id ?? ''));
  const resumed = await feedPage(service, key, { after: reader.events.at(-1)?.cursor ?? '' });
  t.is(resumed.events.length, 0, 'a cursor past the pruned prefix still works');
});

test.serial('the retention loop prunes past its days as it starts', async (t) => {
  const user = await makeUser(service);
  await backdate(user.organizationId, 40);
  const retention = eventRetention(service.orm, createLogger('silent'), 30);
  retention.start();
  t.teardown(() => retention.stop());
  const countOf = async () =>
    Number((await service.orm.em.fork().execute<Array<{ count: string }>>('select count(*) from events where organization_id = ?', [user.organizationId]))[0]?.count);
  t.true(await eventually(async () => (await countOf()) === 0));
});
