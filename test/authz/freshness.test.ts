import test from 'ava';
import { FreshnessFloor } from '../../src/authz/freshness.ts';

// The floor decides what a read with no stated consistency asks SpiceDB for. Tokens here are
// opaque labels: the floor never compares two of them.

test('before any write is acknowledged, a default read is fully consistent', (t) => {
  t.deepEqual(new FreshnessFloor().readYourWrites(), { kind: 'fully_consistent' });
});

test('after one write, a default read is at least as fresh as that write', async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark());
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't1' });
  await floor.acknowledged('t2', floor.mark());
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't2' }, 'a write begun after the floor moved is newer');
});

test('two overlapping writes leave no known newest token: the next default read is fully consistent, and its answer settles the floor', async (t) => {
  const floor = new FreshnessFloor();
  const [first, second] = [floor.mark(), floor.mark()];
  await floor.acknowledged('t-second', second);
  await floor.acknowledged('t-first', first);
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });

  const read = floor.mark();
  floor.settled('t-read', read);
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't-read' });
});

test('a fully consistent read that overlapped a write cannot settle the floor', async (t) => {
  const floor = new FreshnessFloor();
  floor.observedElsewhere();
  const read = floor.mark();
  await floor.acknowledged('t-write', floor.mark());
  floor.observedElsewhere();
  floor.settled('t-read', read);
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
});

test("another instance's write makes the next default read fully consistent", async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark());
  floor.observedElsewhere();
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
});

test('while the channel to other instances is down, every default read is fully consistent', async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark());
  floor.channelDown();
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
  floor.channelUp();
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't1' });
});

test('minimize_latency never reads from before the schema write', async (t) => {
  const floor = new FreshnessFloor();
  t.deepEqual(floor.minimizeLatency(), { kind: 'fully_consistent' });
  await floor.schemaWritten('t-schema', floor.mark());
  await floor.acknowledged('t-later', floor.mark());
  t.deepEqual(floor.minimizeLatency(), { kind: 'at_least_as_fresh', zedToken: 't-schema' });
});

test('the channel hears of each write before the write is acknowledged to its caller', async (t) => {
  const floor = new FreshnessFloor();
  const told: string[] = [];
  floor.onAcknowledged(async (token) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    told.push(token);
  });
  await floor.acknowledged('t1', floor.mark());
  t.deepEqual(told, ['t1']);
});
