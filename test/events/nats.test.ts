import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { eventually } from '../support/eventually.ts';
import { FeedReader, type EventBody } from '../support/events.ts';
import { makeServiceAccount, makeTenant, uniqueName, type Tenant } from '../support/factories.ts';
import { NatsServer } from '../support/nats-server.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

const STREAM = 'TENANT_AUTHZ_EVENTS_TEST';
const PREFIX = 'test_events';

let nats: NatsServer | undefined;
const service = useTestService(test, async () => {
  nats = await NatsServer.start();
  return { environment: { EVENTS_NATS_URL: nats.url, EVENTS_NATS_STREAM: STREAM, EVENTS_NATS_SUBJECT_PREFIX: PREFIX, EVENTS_POLL_MS: '50' } };
});
test.after.always(() => nats?.stop());

interface StreamMessage {
  subject: string;
  msgId: string | undefined;
  event: EventBody;
}

/** A consumer of the stream, as another service would run one: every message on the organization's subjects, in stream order. */
async function readStream(organizationId: string): Promise<StreamMessage[]> {
  if (!nats) throw new Error('no NATS');
  const connection: NatsConnection = await connect({ servers: nats.url });
  try {
    const consumer = await jetstream(connection).consumers.get(STREAM, { filter_subjects: `${PREFIX}.${organizationId}.>` });
    const messages: StreamMessage[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
      let fetched = 0;
      for await (const message of batch) {
        fetched += 1;
        messages.push({ subject: message.subject, msgId: message.headers?.get('Nats-Msg-Id'), event: message.json<EventBody>() });
      }
      if (fetched === 0) return messages;
    }
  } finally {
    await connection.close();
  }
}

async function chainOf(organizationId: string): Promise<string[]> {
  const rows = await service.orm.em.fork().execute<Array<{ id: string }>>('select id from audit_events where organization_id = ? order by position', [organizationId]);
  return rows.map((row) => row.id);
}

/** Waits until the stream holds every event of the organization's audit chain; returns what it holds. */
async function streamHoldsChain(organizationId: string, timeoutMs = 30_000): Promise<StreamMessage[]> {
  const chain = await chainOf(organizationId);
  let messages: StreamMessage[] = [];
  const complete = await eventually(async () => {
    messages = await readStream(organizationId);
    return chain.every((id) => messages.some((message) => message.event.id === id));
  }, timeoutMs, 250);
  if (!complete) throw new Error(`the stream holds ${messages.length} of the organization's ${chain.length} events`);
  return messages;
}

async function teams(tenant: Tenant, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await seed(service, ({ teams: teamService }) => teamService.create(tenant.owner.id, tenant.organizationId, { name: uniqueName('team') }));
  }
}

test.serial('every event is published once, on a subject per organization and type, with Nats-Msg-Id the event id', async (t) => {
  const tenant = await makeTenant(service);
  await teams(tenant, 3);
  const messages = await streamHoldsChain(tenant.organizationId);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const feed = await new FeedReader(service, key).until((read) => read.length === messages.length);

  t.deepEqual(messages.map((message) => message.event), feed.map(({ cursor: _cursor, ...event }) => event), 'the same events as the feed, in its order');
  for (const message of messages) {
    t.is(message.msgId, message.event.id);
    t.is(message.subject, `${PREFIX}.${tenant.organizationId}.${message.event.type}`);
  }
});

test.serial('an event published again (the cursor moved back, as after a crash) is dropped by the stream', async (t) => {
  const tenant = await makeTenant(service);
  await teams(tenant, 3);
  const before = await streamHoldsChain(tenant.organizationId);
  const [first] = await service.orm.em
    .fork()
    .execute<Array<{ transaction_id: string; sequence: string }>>('select transaction_id::text, sequence::text from events where id = ?', [before[0]?.event.id]);
  await service.orm.em.fork().execute(`update event_sinks set transaction_id = ?::xid8, sequence = ?::bigint where name = 'nats'`, [first?.transaction_id, first?.sequence]);
  const [newest] = await service.orm.em.fork().execute<Array<{ transaction_id: string; sequence: string }>>(
    'select transaction_id::text, sequence::text from events order by transaction_id desc, sequence desc limit 1',
  );
  t.true(
    await eventually(async () => {
      const [sink] = await service.orm.em.fork().execute<Array<{ passed: boolean }>>(
        `select (transaction_id, sequence) >= (?::xid8, ?::bigint) as passed from event_sinks where name = 'nats'`,
        [newest?.transaction_id, newest?.sequence],
      );
      return sink?.passed === true;
    }),
    'the publisher went over them again',
  );
  t.deepEqual(await readStream(tenant.organizationId), before);
});

test.serial('events written while NATS is down are published once it is back, each once, in the order of each organization\'s changes', async (t) => {
  const [one, two] = [await makeTenant(service), await makeTenant(service)];
  await streamHoldsChain(two.organizationId);
  await nats?.down();
  // The service goes on: changes commit, their events wait in Postgres.
  await Promise.all([teams(one, 6), teams(two, 6)]);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await nats?.up();
  for (const tenant of [one, two]) {
    const messages = await streamHoldsChain(tenant.organizationId, 45_000);
    t.deepEqual(
      messages.map((message) => message.event.id),
      await chainOf(tenant.organizationId),
      'every event once, in the order of the organization\'s audit chain',
    );
  }
});
