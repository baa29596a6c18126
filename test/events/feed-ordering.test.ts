import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { appendAuditEvents } from '../../src/audit/audit-log.ts';
import { FeedReader, type FeedEventBody } from '../support/events.ts';
import { makeServiceAccount, makeUser, type SignedUpUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

/**
 * A change to `owner`'s organization that holds its transaction open until released: it writes
 * its event at once (its place is taken early and committed late: the classic trap for a feed
 * ordered by insert position) or only at the end (its transaction id is old, its row is new).
 */
function slowChange(owner: SignedUpUser, writes: 'event-first' | 'event-last') {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = () => {};
  const held = new Promise<void>((resolve) => (holding = resolve));
  let eventId = '';
  const append = async (em: Parameters<typeof appendAuditEvents>[0]) => {
    const [event] = await appendAuditEvents(em, owner.organizationId, [
      { actor: { type: 'user', id: owner.id }, action: 'org.updated', target: { type: 'organization', id: owner.organizationId }, changes: { name: ['a', 'slow'] } },
    ]);
    eventId = event?.id ?? '';
  };
  const committed = service.orm.em.fork().transactional(async (em) => {
    await em.execute('select id from organizations where id = ? for update', [owner.organizationId]);
    if (writes === 'event-first') await append(em);
    holding();
    await released;
    if (writes === 'event-last') await append(em);
  });
  return { held, release, committed: committed.then(() => eventId) };
}

/** `count` team creations spread over the organizations, `parallel` at a time; their team ids. */
async function concurrentChanges(owners: SignedUpUser[], count: number, parallel = 4): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `concurrent-${index}`);
  const created: string[] = [];
  const work = [...names];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let name = work.shift(); name; name = work.shift()) {
        const owner = owners[Number(name.split('-')[1]) % owners.length];
        if (!owner) throw new Error('no owner');
        const team = await seed(service, ({ teams }) => teams.create(owner.id, owner.organizationId, { name }));
        created.push(team.result.id);
      }
    }),
  );
  return created;
}

/** A reader polling the feed all along, as a consumer does, until stopped (at the latest when the test ends). */
function pollingReader(t: ExecutionContext, key: string) {
  const reader = new FeedReader(service, key);
  let polling = true;
  const loop = (async () => {
    while (polling) {
      await reader.catchUp();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const stop = async () => {
    polling = false;
    await loop;
  };
  t.teardown(stop);
  return { reader, stop };
}

function assertEachOnce(t: ExecutionContext, events: FeedEventBody[]): void {
  const ids = events.map((event) => event.id);
  t.is(new Set(ids).size, ids.length, 'no event twice');
}

for (const writes of ['event-first', 'event-last'] as const) {
  test.serial(`a reader paging all along gets the slow transaction's event (${writes}) and every concurrent writer's, each once`, async (t) => {
    const [slowOwner, ...owners] = await Promise.all(Array.from({ length: 4 }, () => makeUser(service)));
    if (!slowOwner) throw new Error('no owner');
    const { key } = await makeServiceAccount(service, []);
    const polling = pollingReader(t, key);
    await polling.reader.until((read) => read.some((event) => event.organization_id === owners.at(-1)?.organizationId));

    const slow = slowChange(slowOwner, writes);
    await slow.held;
    const teams = await concurrentChanges(owners, 24);
    // The writers have committed while the slow transaction is open; the reader keeps reading.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ours = new Set(owners.map((owner) => owner.organizationId));
    const whileOpen = polling.reader.events.filter((event) => event.type === 'team.created' && ours.has(event.organization_id ?? '')).length;
    slow.release();
    const slowEvent = await slow.committed;
    const events = await polling.reader.until(
      (read) => read.some((event) => event.id === slowEvent) && teams.every((team) => read.some((event) => event.data.object.id === team)),
    );
    await polling.stop();

    assertEachOnce(t, events);
    t.is(whileOpen, 0, 'the writers\' events wait behind the open transaction, whose id is older than theirs');
    const slowAt = events.findIndex((event) => event.id === slowEvent);
    const firstTeam = events.findIndex((event) => event.type === 'team.created' && ours.has(event.organization_id ?? ''));
    t.true(slowAt < firstTeam, 'the slow change sorts first: it began first');
  });
}

test.serial('many writers at once: the reader gets every event once, each organization\'s in the order of its audit chain', async (t) => {
  const owners = await Promise.all(Array.from({ length: 4 }, () => makeUser(service)));
  const { key } = await makeServiceAccount(service, []);
  const polling = pollingReader(t, key);
  const teams = await concurrentChanges(owners, 60, 8);
  const events = await polling.reader.until((read) => teams.every((team) => read.some((event) => event.data.object.id === team)));
  await polling.stop();

  assertEachOnce(t, events);
  for (const owner of owners) {
    const chain = await service.orm.em
      .fork()
      .execute<Array<{ id: string }>>('select id from audit_events where organization_id = ? order by position', [owner.organizationId]);
    t.deepEqual(
      events.filter((event) => event.organization_id === owner.organizationId).map((event) => event.id),
      chain.map((row) => row.id),
    );
  }
});

test.serial('a transaction left open in another database of the same server does not hold the feed back', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [owner.organizationId] });
  const elsewhere = new URL(service.database.url);
  elsewhere.pathname = '/postgres';
  const other = new pg.Client({ connectionString: elsewhere.toString() });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('begin');
  await other.query('select pg_current_xact_id()');

  const team = await seed(service, ({ teams }) => teams.create(owner.id, owner.organizationId, { name: 'Not held back' }));
  const events = await new FeedReader(service, key).until((read) => read.some((event) => event.data.object.id === team.result.id), 10_000);
  t.true(events.some((event) => event.type === 'team.created'));
  await other.query('rollback');
});
