import test from 'ava';
import pg from 'pg';
import { FloorChannel } from '../../src/authz/floor-channel.ts';
import { FreshnessFloor } from '../../src/authz/freshness.ts';
import { WHOLE_GRAPH, type WriteReach } from '../../src/authz/write-reach.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createTestDatabase } from '../support/database.ts';

// Two instances' floors on one database, each with its channel, as src/stores.ts opens them.

const APPLICATION_NAME = 'tenant-authz read-your-writes floor';

async function listenerPids(client: pg.Client): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and application_name = $1',
    [APPLICATION_NAME],
  );
  return rows.map((row) => row.pid);
}

async function until(condition: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 300 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

test('an instance whose channel was cut announces the whole graph when it is back: its writes in the meantime reached nobody', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  t.teardown(() => client.end());
  const logger = createLogger('silent');

  const listening = new FreshnessFloor();
  const heard: WriteReach[] = [];
  listening.onWrite((reach) => heard.push(reach));
  const listener = await FloorChannel.open(database.url, listening, new Metrics(), logger);
  t.teardown(() => listener.close());
  const [listenerPid] = await listenerPids(client);
  heard.length = 0; // its own channel coming up

  const cut = new FreshnessFloor();
  const cutChannel = await FloorChannel.open(database.url, cut, new Metrics(), logger);
  t.teardown(() => cutChannel.close());
  const cutPid = (await listenerPids(client)).find((pid) => pid !== listenerPid);
  t.truthy(cutPid);
  // Opening announced the whole graph already (nobody knows what a new instance wrote before).
  t.true(await until(() => heard.length === 1));

  await client.query('select pg_terminate_backend($1)', [cutPid]);
  t.true(await until(() => heard.length === 2), 'heard once the cut channel was back');
  t.deepEqual(heard, [WHOLE_GRAPH, WHOLE_GRAPH]);
});

test('an announcement says whether its schema lets time only revoke; hearing one that may grant ends long-lived denials here', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const logger = createLogger('silent');
  const open = async (timeOnlyRevokes: boolean) => {
    const floor = new FreshnessFloor();
    const channel = await FloorChannel.open(database.url, floor, new Metrics(), logger);
    t.teardown(() => channel.close());
    await floor.schemaWritten('t-schema', floor.mark(), { leafTypes: new Set(['chatbot']), timeOnlyRevokes });
    return floor;
  };
  const listening = await open(true);
  const heard: WriteReach[] = [];
  listening.onWrite((reach) => heard.push(reach));
  const write = (floor: FreshnessFloor) => floor.acknowledged('t-write', floor.mark(), { kind: 'objects', objects: ['chatbot:b1'] });

  await write(await open(true));
  t.true(await until(() => heard.length === 3), 'the other instance opening, writing its schema, then its write');
  t.true(listening.timeOnlyRevokes(), 'an instance of the same kind of schema changes nothing');

  await write(await open(false));
  t.true(await until(() => !listening.timeOnlyRevokes()), 'an instance whose schema may let time grant access');
});
