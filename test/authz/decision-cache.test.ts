import test from 'ava';
import { DecisionCache } from '../../src/authz/decision-cache.ts';
import { FreshnessFloor } from '../../src/authz/freshness.ts';
import { readSchema, timeOnlyRevokes } from '../../src/authz/schema.ts';
import { WHOLE_GRAPH } from '../../src/authz/write-reach.ts';
import { bearer, joinByConsent, makeServiceAccount, makeUser, onBehalfOf } from '../support/factories.ts';
import { allowed, userMay } from '../support/checks.ts';
import { cacheHits } from '../support/metrics.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const query = (id: string) => ({ resource: { type: 'chatbot', id }, permission: 'view', subject: { type: 'user', id: 'u1' } });
const allow = { allowed: true, checkedAt: 't' };

const bot = (id: string) => `chatbot:${id}`;

test('a write to one object retires the decisions about it and keeps the rest; any other write retires all', (t) => {
  const cache = new DecisionCache({ entries: 10, maxAgeMs: 60_000, denialMaxAgeMs: 60_000 }, () => true);
  for (const id of ['a', 'b']) cache.set(query(id), cache.retirementMark(), allow);
  cache.retire({ kind: 'objects', objects: [bot('a')] });
  t.is(cache.get(query('a')), undefined);
  t.deepEqual(cache.get(query('b')), allow);
  cache.retire(WHOLE_GRAPH);
  t.is(cache.get(query('b')), undefined);
});

test('an answer in flight when a write reached its object is not kept; one about another object is', (t) => {
  const cache = new DecisionCache({ entries: 10, maxAgeMs: 60_000, denialMaxAgeMs: 60_000 }, () => true);
  const mark = cache.retirementMark();
  cache.retire({ kind: 'objects', objects: [bot('a')] });
  cache.set(query('a'), mark, allow);
  cache.set(query('b'), mark, allow);
  t.is(cache.get(query('a')), undefined, 'it may predate the write');
  t.deepEqual(cache.get(query('b')), allow);

  const beforeGraphWrite = cache.retirementMark();
  cache.retire(WHOLE_GRAPH);
  cache.set(query('c'), beforeGraphWrite, allow);
  t.is(cache.get(query('c')), undefined);
});

test('the cache is bounded by size, oldest out first, and by age', async (t) => {
  const cache = new DecisionCache({ entries: 2, maxAgeMs: 30, denialMaxAgeMs: 30 }, () => true);
  for (const id of ['a', 'b', 'c']) cache.set(query(id), cache.retirementMark(), allow);
  t.is(cache.get(query('a')), undefined);
  t.deepEqual(cache.get(query('c')), allow);
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.is(cache.get(query('c')), undefined);
});

const deny = { allowed: false, checkedAt: 't' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a denial outlives an allow where time can only revoke; otherwise both live the allow age', async (t) => {
  for (const timeOnly of [true, false]) {
    const cache = new DecisionCache({ entries: 10, maxAgeMs: 30, denialMaxAgeMs: 60_000 }, () => timeOnly);
    cache.set(query('allowed'), cache.retirementMark(), allow);
    cache.set(query('denied'), cache.retirementMark(), deny);
    await pause(60);
    t.is(cache.get(query('allowed')), undefined, 'an expiry may have revoked it');
    t.deepEqual(cache.get(query('denied')), timeOnly ? deny : undefined);
  }
});

test('under schema.zed time can only revoke; an exclusion, an .all() arrow or a caveat could let it grant', (t) => {
  t.true(timeOnlyRevokes(readSchema()));
  const schema = (permission: string, extra = '') => `
    use expiration
    ${extra}
    definition user {}
    definition doc {
      // a comment may say a - b
      relation viewer: user | user with expiration
      relation banned: user with expiration
      relation parent: doc
      permission view = ${permission}
    }`;
  t.true(timeOnlyRevokes(schema('viewer + parent->view & parent.any(view)')));
  t.false(timeOnlyRevokes(schema('viewer - banned')), 'the ban expiring grants access');
  t.true(timeOnlyRevokes(schema('viewer - blocked', 'definition list { relation blocked: user }').replace('relation banned', 'relation blocked: user\n      relation banned')), 'excluding what never expires');
  t.false(timeOnlyRevokes(schema('viewer - parent->banned')), 'an arrow to an expiring relation');
  t.false(timeOnlyRevokes(schema('viewer - (parent->view)')), 'a permission that reads an expiring relation');
  t.false(timeOnlyRevokes(schema('viewer - team_members', 'definition team { relation member: user with expiration }').replace('relation banned', 'relation team_members: team#member\n      relation banned')), "a team's expiring membership");
  t.false(timeOnlyRevokes(schema('viewer +\n      (parent - banned)')), 'on a continuation line too');
  t.false(timeOnlyRevokes(schema('parent.all(view)')), 'the one denying parent expiring grants access');
  t.false(timeOnlyRevokes(schema('parent.\n      all(view)')), 'with a line break after the dot');
  t.false(timeOnlyRevokes(schema('viewer', 'caveat weekday(day string) { day != "sunday" }')));
  t.false(timeOnlyRevokes(schema('viewer & // see docs/*\n      (viewer - banned) // */')), 'a /* inside a // comment opens no comment');
  t.false(timeOnlyRevokes(schema('viewer\n      relation muted: user with expiration; permission talk = viewer - muted')), 'after a semicolon');
  t.false(timeOnlyRevokes(schema('viewer', 'use partial')), 'anything the reading does not know');
});

test('a denial lives no longer than an allow until this instance has written a schema under which time only revokes', async (t) => {
  const floor = new FreshnessFloor();
  const cache = new DecisionCache({ entries: 10, maxAgeMs: 30, denialMaxAgeMs: 60_000 }, () => floor.timeOnlyRevokes());
  cache.set(query('before'), cache.retirementMark(), deny);
  await floor.schemaWritten('t-schema', floor.mark(), { leafTypes: new Set(['chatbot']), timeOnlyRevokes: true });
  cache.set(query('after'), cache.retirementMark(), deny);
  await pause(60);
  t.is(cache.get(query('before')), undefined);
  t.deepEqual(cache.get(query('after')), deny);
});

test("once another instance announces a schema under which time may grant, denials live the allow age, and its first announcement retires all", async (t) => {
  const floor = new FreshnessFloor();
  const cache = new DecisionCache({ entries: 10, maxAgeMs: 30, denialMaxAgeMs: 60_000 }, () => floor.timeOnlyRevokes());
  floor.onWrite((reach) => cache.retire(reach));
  await floor.schemaWritten('t-schema', floor.mark(), { leafTypes: new Set(['chatbot']), timeOnlyRevokes: true });
  cache.set(query('a'), cache.retirementMark(), deny);
  floor.observedElsewhere({ kind: 'objects', objects: [bot('b')] }, true);
  t.is(cache.get(query('a')), undefined, 'a leaf write, but the first from a schema that may grant: everything retired');
  t.false(floor.timeOnlyRevokes());
  cache.set(query('a'), cache.retirementMark(), deny);
  floor.observedElsewhere({ kind: 'objects', objects: [bot('b')] }, false);
  t.false(floor.timeOnlyRevokes(), 'for good');
  await pause(60);
  t.is(cache.get(query('a')), undefined);
});

/** The relationship that registers a chatbot under the user's default workspace, on their behalf, as a body for /authz/relationships. */
const registration = (chatbotId: string, user: { id: string; workspaceId: string }) => ({
  relationships: [{ resource: { type: 'chatbot', id: chatbotId }, relation: 'workspace', subject: { type: 'workspace', id: user.workspaceId } }],
  on_behalf_of: onBehalfOf(user),
});

const mayView = (key: string, chatbotId: string, userId: string) =>
  allowed(service, userMay('view', { type: 'chatbot', id: chatbotId }, { id: userId }), key);

// The hit counter is the service's, so the tests that read it run one at a time.
test.serial('a repeated check is answered from the cache, and no cached allow survives a revocation', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const chatbot = `bot_${owner.id.slice(0, 8)}`;
  await service.send('POST', '/api/v1/authz/relationships', registration(chatbot, owner), bearer(key));
  const check = () => mayView(key, chatbot, owner.id);

  t.true(await check());
  const before = await cacheHits(service);
  t.true(await check());
  t.true((await cacheHits(service)) > before, 'the second answer came from the cache');

  await service.send('DELETE', '/api/v1/authz/relationships', registration(chatbot, owner), bearer(key));
  t.false(await check(), 'the write retired the cached allow');
});

test.serial("registering one chatbot keeps the cached decisions about every other chatbot", async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const register = (id: string) => service.send('POST', '/api/v1/authz/relationships', registration(id, owner), bearer(key));
  const check = (id: string) => mayView(key, id, owner.id);
  const [steady, added] = [`bot_steady_${owner.id.slice(0, 8)}`, `bot_added_${owner.id.slice(0, 8)}`];
  await register(steady);
  t.true(await check(steady));
  t.false(await check(added));

  t.is((await register(added)).status, 200);
  const before = await cacheHits(service);
  t.true(await check(steady), 'still allowed');
  t.is(await cacheHits(service), before + 1, 'and from the cache: the registration could not change it');
  t.true(await check(added), 'the cached deny about the registered chatbot was retired');
  t.is(await cacheHits(service), before + 1);
});

test.serial('a cached denial outlives the allow age, and a write still ends it at once', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const [steady, added] = [`bot_kept_${owner.id.slice(0, 8)}`, `bot_later_${owner.id.slice(0, 8)}`];
  await service.send('POST', '/api/v1/authz/relationships', registration(steady, owner), bearer(key));
  t.true(await mayView(key, steady, owner.id));
  t.false(await mayView(key, added, owner.id));
  await pause(service.config.spicedb.decisionCache.maxAgeMs + 500);

  const before = await cacheHits(service);
  t.true(await mayView(key, steady, owner.id));
  t.is(await cacheHits(service), before, 'the allow was asked again: an expiry may have ended it');
  t.false(await mayView(key, added, owner.id));
  t.is(await cacheHits(service), before + 1, 'the denial was not: no expiry can grant access');

  await service.send('POST', '/api/v1/authz/relationships', registration(added, owner), bearer(key));
  t.true(await mayView(key, added, owner.id), 'the registration retired the cached denial');
});

test.serial('a membership change retires every cached decision', async (t) => {
  const [owner, member] = [await makeUser(service), await makeUser(service)];
  const { key } = await makeServiceAccount(service);
  const chatbot = `bot_role_${owner.id.slice(0, 8)}`;
  await service.send('POST', '/api/v1/authz/relationships', registration(chatbot, owner), bearer(key));
  const check = () => mayView(key, chatbot, member.id);
  t.false(await check());
  // A newcomer to the organization gets a role in its default workspace, which holds the chatbot.
  t.is((await joinByConsent(service, owner, owner.organizationId, member)).status, 200);
  t.true(await check(), 'a write to the organization and the workspace reaches every chatbot in them');
});

test.serial('explicit freshness never reads the cache', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const body = { resource: { type: 'organization', id: owner.organizationId }, permission: 'view', subject: { type: 'user', id: owner.id } };
  await service.send('POST', '/api/v1/authz/check', body, bearer(key));
  const before = await cacheHits(service);
  for (const consistency of ['fully_consistent', { at_least_as_fresh: (await (await service.send('POST', '/api/v1/authz/check', body, bearer(key))).json() as { checked_at: string }).checked_at }]) {
    t.is((await service.send('POST', '/api/v1/authz/check', { ...body, consistency }, bearer(key))).status, 200);
  }
  t.is(await cacheHits(service), before + 1, 'only the default check in between was a hit');
});

test.serial('a bulk check takes what the cache holds and asks SpiceDB the rest; no cached allow survives a revocation', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const chatbot = { type: 'chatbot', id: `bot_bulk_${owner.id.slice(0, 8)}` };
  await service.send('POST', '/api/v1/authz/relationships', registration(chatbot.id, owner), bearer(key));
  const item = (permission: string) => ({ resource: chatbot, permission, subject: { type: 'user', id: owner.id } });
  const bulk = async (...permissions: string[]) => {
    const response = await service.send('POST', '/api/v1/authz/check-bulk', { items: permissions.map(item) }, bearer(key));
    return ((await response.json()) as { results: Array<{ allowed: boolean }> }).results.map((result) => result.allowed);
  };

  t.deepEqual(await bulk('view'), [true]);
  const before = await cacheHits(service);
  t.deepEqual(await bulk('view', 'edit'), [true, true], 'one item from the cache, one from SpiceDB, in order');
  t.is(await cacheHits(service), before + 1);

  await service.send('DELETE', '/api/v1/authz/relationships', registration(chatbot.id, owner), bearer(key));
  t.deepEqual(await bulk('view', 'edit'), [false, false], 'the write retired both cached allows');
});

test.serial('a repeated organization list is confirmed from the cache', async (t) => {
  const [owner, member] = [await makeUser(service), await makeUser(service)];
  await joinByConsent(service, owner, owner.organizationId, member);
  const listed = async () => {
    const response = await service.send('GET', '/api/v1/orgs', undefined, bearer(member.accessToken));
    return ((await response.json()) as Array<{ id: string }>).map((organization) => organization.id).sort();
  };

  t.deepEqual(await listed(), [member.organizationId, owner.organizationId].sort());
  const before = await cacheHits(service);
  t.deepEqual(await listed(), [member.organizationId, owner.organizationId].sort());
  t.is(await cacheHits(service), before + 2, 'both organizations confirmed from the cache');
});
