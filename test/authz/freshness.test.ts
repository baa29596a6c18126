import test from 'ava';
import { FreshnessFloor } from '../../src/authz/freshness.ts';
import { WHOLE_GRAPH, type WriteReach } from '../../src/authz/write-reach.ts';

// The floor decides what a read with no stated consistency asks SpiceDB for. Tokens here are
// opaque labels: the floor never compares two of them.

test('before any write is acknowledged, a default read is fully consistent', (t) => {
  t.deepEqual(new FreshnessFloor().readYourWrites(), { kind: 'fully_consistent' });
});

test('after one write, a default read is at least as fresh as that write', async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark(), WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't1' });
  await floor.acknowledged('t2', floor.mark(), WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't2' }, 'a write begun after the floor moved is newer');
});

test('two overlapping writes leave no known newest token: the next default read is fully consistent, and its answer settles the floor', async (t) => {
  const floor = new FreshnessFloor();
  const [first, second] = [floor.mark(), floor.mark()];
  await floor.acknowledged('t-second', second, WHOLE_GRAPH);
  await floor.acknowledged('t-first', first, WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });

  const read = floor.mark();
  floor.settled('t-read', read);
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't-read' });
});

test('a fully consistent read that overlapped a write cannot settle the floor', async (t) => {
  const floor = new FreshnessFloor();
  floor.observedElsewhere(WHOLE_GRAPH);
  const read = floor.mark();
  await floor.acknowledged('t-write', floor.mark(), WHOLE_GRAPH);
  floor.observedElsewhere(WHOLE_GRAPH);
  floor.settled('t-read', read);
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
});

test("another instance's write makes the next default read fully consistent", async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark(), WHOLE_GRAPH);
  floor.observedElsewhere(WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
});

test('while the channel to other instances is down, every default read is fully consistent', async (t) => {
  const floor = new FreshnessFloor();
  await floor.acknowledged('t1', floor.mark(), WHOLE_GRAPH);
  floor.channelDown();
  t.deepEqual(floor.readYourWrites(), { kind: 'fully_consistent' });
  floor.channelUp();
  t.deepEqual(floor.readYourWrites(), { kind: 'at_least_as_fresh', zedToken: 't1' });
});

test('minimize_latency never reads from before the schema write', async (t) => {
  const floor = new FreshnessFloor();
  t.deepEqual(floor.minimizeLatency(), { kind: 'fully_consistent' });
  await floor.schemaWritten('t-schema', floor.mark(), { leafTypes: new Set(), timeOnlyRevokes: true });
  await floor.acknowledged('t-later', floor.mark(), WHOLE_GRAPH);
  t.deepEqual(floor.minimizeLatency(), { kind: 'at_least_as_fresh', zedToken: 't-schema' });
});

test('the channel hears of each write before the write is acknowledged to its caller', async (t) => {
  const floor = new FreshnessFloor();
  const told: string[] = [];
  floor.onAcknowledged(async (token) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    told.push(token);
  });
  await floor.acknowledged('t1', floor.mark(), WHOLE_GRAPH);
  t.deepEqual(told, ['t1']);
});

// Writes that reach only leaf objects (registering or sharing one chatbot) move the floor for
// reads about those objects and leave every other read on the older graph floor.
const objects = (...names: string[]): WriteReach => ({ kind: 'objects', objects: names });
const fresh = (zedToken: string) => ({ kind: 'at_least_as_fresh', zedToken });

/** A floor whose schema, written at `t-schema`, has chatbot and knowledge_base as leaves. */
async function floorOverLeaves(): Promise<FreshnessFloor> {
  const floor = new FreshnessFloor();
  await floor.schemaWritten('t-schema', floor.mark(), { leafTypes: new Set(['chatbot', 'knowledge_base']), timeOnlyRevokes: true });
  return floor;
}

test('a write to one chatbot moves the floor for reads about that chatbot only', async (t) => {
  const floor = await floorOverLeaves();
  await floor.acknowledged('t-bot', floor.mark(), objects('chatbot:b1'));
  t.deepEqual(floor.readYourWrites(['chatbot:b1']), fresh('t-bot'));
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), fresh('t-schema'), 'another chatbot keeps the older floor');
  t.deepEqual(floor.readYourWrites(['workspace:w1']), fresh('t-schema'));
  t.deepEqual(floor.readYourWrites(['chatbot:b2', 'chatbot:b1']), fresh('t-bot'), 'a bulk naming the written chatbot asks the whole floor');
  t.deepEqual(floor.readYourWrites(), fresh('t-bot'), 'a read about no object in particular (a lookup) asks the whole floor');
});

test('a graph write begun after a chatbot write covers it; one that overlapped it does not', async (t) => {
  const floor = await floorOverLeaves();
  await floor.acknowledged('t-bot', floor.mark(), objects('chatbot:b1'));
  await floor.acknowledged('t-graph', floor.mark(), WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(['chatbot:b1']), fresh('t-graph'));

  const overlapping = floor.mark();
  await floor.acknowledged('t-bot2', floor.mark(), objects('chatbot:b2'));
  await floor.acknowledged('t-graph2', overlapping, WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(['chatbot:b3']), fresh('t-graph2'), 'every graph write is covered');
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), { kind: 'fully_consistent' }, 'nothing known covers both writes');
});

test("another instance's write to a chatbot makes reads about it fully consistent, and no other read", async (t) => {
  const floor = await floorOverLeaves();
  floor.observedElsewhere(objects('chatbot:b1'));
  t.deepEqual(floor.readYourWrites(['chatbot:b1']), { kind: 'fully_consistent' });
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), fresh('t-schema'));
  floor.observedElsewhere(WHOLE_GRAPH);
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), { kind: 'fully_consistent' });
});

test("an announced write to a type that is no leaf in this instance's schema reaches the whole graph", async (t) => {
  const floor = await floorOverLeaves();
  const reaches: WriteReach[] = [];
  floor.onWrite((reach) => reaches.push(reach));
  floor.observedElsewhere(objects('workspace:w1'));
  t.deepEqual(reaches, [WHOLE_GRAPH]);
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), { kind: 'fully_consistent' });
});

test('a fully consistent read settles the graph floor too, covering the chatbots written before it began', async (t) => {
  const floor = await floorOverLeaves();
  floor.observedElsewhere(WHOLE_GRAPH);
  await floor.acknowledged('t-bot', floor.mark(), objects('chatbot:b1'));
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), { kind: 'fully_consistent' }, 'the graph floor is unknown');
  const read = floor.mark();
  await floor.acknowledged('t-bot2', floor.mark(), objects('chatbot:b2'));
  floor.settled('t-read', read);
  t.deepEqual(floor.readYourWrites(['chatbot:b1']), fresh('t-read'));
  t.deepEqual(floor.readYourWrites(['chatbot:b2']), fresh('t-bot2'), 'written after the read began: still the whole floor');
});

test('past 1,024 remembered chatbots the graph floor catches up with the whole floor', async (t) => {
  const floor = await floorOverLeaves();
  for (let index = 0; index <= 1_024; index++) await floor.acknowledged(`t-bot${index}`, floor.mark(), objects(`chatbot:b${index}`));
  t.deepEqual(floor.readYourWrites(['chatbot:other']), fresh('t-bot1024'));
  t.deepEqual(floor.readYourWrites(['chatbot:b3']), fresh('t-bot1024'));
});

test('observers hear the reach of every write, made here or heard of', async (t) => {
  const floor = await floorOverLeaves();
  const reaches: WriteReach[] = [];
  floor.onWrite((reach) => reaches.push(reach));
  await floor.acknowledged('t1', floor.mark(), objects('chatbot:b1'));
  floor.observedElsewhere(objects('knowledge_base:k1'));
  floor.observedElsewhere(WHOLE_GRAPH);
  t.deepEqual(reaches, [objects('chatbot:b1'), objects('knowledge_base:k1'), WHOLE_GRAPH]);
});

test('decisions may be cached only while the channel to other instances is up', (t) => {
  const floor = new FreshnessFloor();
  t.true(floor.canCache());
  floor.channelDown();
  t.false(floor.canCache());
  floor.channelUp();
  t.true(floor.canCache());
});
