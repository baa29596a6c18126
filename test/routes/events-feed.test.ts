import test from 'ava';
import { compareCursors, decodeFeedCursor, FEED_START } from '../../src/events/event-feed.ts';
import { eventually } from '../support/eventually.ts';
import { FeedReader, feedPage } from '../support/events.ts';
import { bearer, makeServiceAccount, makeTenant, makeUser } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

test('the feed is for service accounts: a user\'s access token is refused', async (t) => {
  const user = await makeUser(service);
  const response = await service.request('/api/v1/events', { headers: bearer(user.accessToken) });
  t.is(response.status, 401);
  t.is((await service.request('/api/v1/events')).status, 401);
});

test('an account limited to organizations reads only their events; an unlimited one reads every organization\'s', async (t) => {
  const tenant = await makeTenant(service);
  const limited = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  const unlimited = await makeServiceAccount(service, []);
  const events = await new FeedReader(service, limited.key).until((read) => read.filter((event) => event.type === 'organization.member.added').length === 2);
  t.true(events.every((event) => event.organization_id === tenant.organizationId));
  t.false(events.some((event) => event.organization_id === tenant.stranger.organizationId));
  const all = await new FeedReader(service, unlimited.key).until((read) => read.some((event) => event.organization_id === tenant.stranger.organizationId));
  t.true(all.some((event) => event.organization_id === tenant.organizationId));
});

test('pages resume after their cursor: each event once, oldest first, and an empty page keeps its place', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  for (const name of ['one', 'two', 'three', 'four', 'five']) {
    await seed(service, ({ teams }) => teams.create(tenant.owner.id, tenant.organizationId, { name }));
  }
  const whole = await new FeedReader(service, key).until((read) => read.filter((event) => event.type === 'team.created').length === 5);
  const paged = [];
  let after: string | undefined;
  for (;;) {
    const page = await feedPage(service, key, { limit: '2', ...(after && { after }) });
    paged.push(...page.events);
    t.true(page.events.length <= 2);
    after = page.next_cursor;
    if (page.events.length === 0) break;
  }
  t.deepEqual(paged.map((event) => event.id), whole.map((event) => event.id));
  t.deepEqual(
    paged.filter((event) => event.type === 'team.created').map((event) => event.data.changes.name?.after),
    ['one', 'two', 'three', 'four', 'five'],
  );
  const last = paged.at(-1);
  t.is((await feedPage(service, key, { after: last?.cursor ?? '' })).events.length, 0, 'an event\'s own cursor resumes right after it');
  const again = await feedPage(service, key, { after: after ?? '' });
  t.deepEqual(again.events, []);
  t.false(again.has_more);
  t.is(again.next_cursor, after);
});

test('types selects whole dotted prefixes; pages past what they skip', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  await seed(service, ({ members }) => members.changeRole(tenant.owner.id, tenant.organizationId, tenant.member.id, 'admin'));
  await seed(service, ({ teams }) => teams.create(tenant.owner.id, tenant.organizationId, { name: 'Typed' }));
  const all = await new FeedReader(service, key).until((read) => read.some((event) => event.type === 'team.created'));

  const members = await feedPage(service, key, { types: 'organization.member' });
  t.deepEqual(members.events.map((event) => event.type), ['organization.member.added', 'organization.member.added', 'organization.member.role_changed']);
  const two = await feedPage(service, key, { types: 'team,organization.member.role_changed' });
  t.deepEqual(two.events.map((event) => event.type), ['organization.member.role_changed', 'team.created']);
  const partial = await feedPage(service, key, { types: 'organization.mem' });
  t.deepEqual(partial.events, [], 'a prefix is made of whole segments');
  // The horizon may stand a moment short while another transaction ends: ask until it has passed.
  const cursor = (text: string | undefined) => decodeFeedCursor(text ?? '') ?? FEED_START;
  t.true(
    await eventually(async () => {
      const skipping = await feedPage(service, key, { types: 'organization.mem' });
      return compareCursors(cursor(skipping.next_cursor), cursor(all.at(-1)?.cursor)) >= 0;
    }),
    'a page that found nothing of its types resumes past the events it skipped',
  );
});

test('a cursor, a type list or a limit the API did not issue answers 422 with the field', async (t) => {
  const { key } = await makeServiceAccount(service, []);
  for (const [query, field] of [
    ['after=abc', 'query.after'],
    ['after=1.2.3', 'query.after'],
    ['types=Organization', 'query.types'],
    ['types=organization..member', 'query.types'],
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['cursor=1', 'query.cursor'],
  ] as const) {
    const response = await service.request(`/api/v1/events?${query}`, { headers: bearer(key) });
    t.is(response.status, 422, query);
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    t.deepEqual(problem.errors.map((error) => error.field), [field], query);
  }
});

test('the OpenAPI document declares the feed and the webhook routes with their schemas and errors', async (t) => {
  const document = (await (await service.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
    components: { schemas: Record<string, unknown> };
  };
  t.deepEqual(Object.keys(document.paths['/api/v1/events'] ?? {}), ['get']);
  t.true('410' in (document.paths['/api/v1/events']?.get?.responses ?? {}));
  for (const path of [
    '/api/v1/webhook-endpoints',
    '/api/v1/webhook-endpoints/{endpoint_id}',
    '/api/v1/webhook-endpoints/{endpoint_id}/secret/rotate',
    '/api/v1/webhook-endpoints/{endpoint_id}/attempts',
    '/api/v1/webhook-endpoints/{endpoint_id}/resend',
  ]) {
    t.truthy(document.paths[path], path);
  }
  for (const schema of ['FeedEvent', 'EventPage', 'WebhookEndpoint', 'WebhookEndpointWithSecret', 'WebhookAttempt']) t.truthy(document.components.schemas[schema], schema);
});
