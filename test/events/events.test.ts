import { readFileSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import test from 'ava';
import { appendAuditEvents } from '../../src/audit/audit-log.ts';
import { catalogueTypes, EVENT_CATALOGUE, eventTypeOf } from '../../src/events/event-catalogue.ts';
import { FeedReader } from '../support/events.ts';
import { auditActionsIn } from '../support/audit-actions.ts';
import { makeServiceAccount, makeTenant, makeUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

/** A reader of one organization's events, as a service account limited to it. */
async function readerOf(tenant: Tenant): Promise<FeedReader> {
  const { key } = await makeServiceAccount(service, [], { organizationIds: [tenant.organizationId] });
  return new FeedReader(service, key);
}

async function auditIdsOf(organizationId: string): Promise<string[]> {
  const rows = await service.orm.em
    .fork()
    .execute<Array<{ id: string }>>('select id from audit_events where organization_id = ? order by position', [organizationId]);
  return rows.map((row) => row.id);
}

test('every change the audit log records is an event with the audit event\'s id, and nothing else is', async (t) => {
  const tenant = await makeTenant(service);
  const { owner, member, organizationId } = tenant;
  await seed(service, ({ members }) => members.changeRole(owner.id, organizationId, member.id, 'admin'));
  const team = await seed(service, ({ teams }) => teams.create(owner.id, organizationId, { name: 'Support' }));
  await seed(service, ({ teamMembers }) => teamMembers.add(owner.id, team.result.id, { userId: member.id }));
  await seed(service, ({ workspaces }) => workspaces.update(owner.id, tenant.workspaceId, { name: 'Renamed' }));
  const { account } = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  await seed(service, ({ resources }) => resources.register(account, { type: 'chatbot', id: 'bot-events-1' }, { parentWorkspaceId: tenant.workspaceId }));
  await seed(service, ({ grants }) =>
    grants.grant(account, { type: 'chatbot', id: 'bot-events-1' }, { subject: { type: 'user', id: member.id }, role: 'viewer' }),
  );
  const audited = await auditIdsOf(organizationId);

  const events = await (await readerOf(tenant)).until((read) => read.length >= audited.length);
  t.deepEqual(
    events.map((event) => event.id),
    audited,
    'one event per audit event, in the order of the organization\'s chain',
  );
  t.deepEqual(events.map((event) => event.type), [
    'organization.created',
    'organization.updated',
    'organization.member.added',
    'organization.member.added',
    'organization.member.role_changed',
    'team.created',
    'team.member.added',
    'workspace.updated',
    'resource.registered',
    'resource.grant.added',
  ]);
  t.true(events.every((event) => event.organization_id === organizationId));
});

test('an event says who did it and what changed, before and after', async (t) => {
  const tenant = await makeTenant(service);
  const reader = await readerOf(tenant);
  await seed(service, ({ members }) => members.changeRole(tenant.owner.id, tenant.organizationId, tenant.member.id, 'admin'));
  const events = await reader.until((read) => read.some((event) => event.type === 'organization.member.role_changed'));
  const changed = events.find((event) => event.type === 'organization.member.role_changed');
  t.like(changed, {
    organization_id: tenant.organizationId,
    actor: { type: 'user', id: tenant.owner.id },
    data: { object: { type: 'user', id: tenant.member.id }, changes: { role: { before: 'member', after: 'admin' } } },
  });
  t.false(Number.isNaN(Date.parse(changed?.occurred_at ?? '')));
});

test('a resource event names the user the service acted for', async (t) => {
  const tenant = await makeTenant(service);
  const reader = await readerOf(tenant);
  const { account } = await makeServiceAccount(service, ['chatbot'], { trusted: false });
  await seed(service, ({ resources }) =>
    resources.register(account, { type: 'chatbot', id: 'bot-for-owner' }, { parentWorkspaceId: tenant.workspaceId, onBehalfOf: tenant.owner.id }),
  );
  const events = await reader.until((read) => read.some((event) => event.type === 'resource.registered'));
  t.like(events.find((event) => event.type === 'resource.registered'), {
    actor: { type: 'service_account', id: account.id },
    data: {
      object: { type: 'chatbot', id: 'bot-for-owner' },
      on_behalf_of: { type: 'user', id: tenant.owner.id },
      changes: { workspace_id: { before: null, after: tenant.workspaceId } },
    },
  });
});

test("no event carries an invitee's email or the billing contact's: the change is told, the address is not", async (t) => {
  const tenant = await makeTenant(service);
  const reader = await readerOf(tenant);
  const outsider = 'someone.outside@elsewhere.example';
  const billing = 'accounts-payable@elsewhere.example';
  await seed(service, ({ invitations }) =>
    invitations.create(tenant.owner.id, tenant.organizationId, { email: outsider, role: 'member', workspaces: [], expiresInDays: 7 }),
  );
  await seed(service, ({ organizations }) => organizations.updateBilling(tenant.owner.id, tenant.organizationId, { billingEmail: billing }));
  const events = await reader.until((read) => read.some((event) => event.type === 'organization.billing.updated'));
  const invited = events.find((event) => event.type === 'organization.invitation.created');
  t.like(invited, { data: { object: { type: 'invitation' }, changes: { role: { before: null, after: 'member' } } } });
  const text = JSON.stringify(events);
  t.false(text.includes(outsider));
  t.false(text.includes(billing));
  t.false(text.includes(tenant.owner.email), 'not even the owner\'s own address (org.created records it as the billing email)');
});

test('a change that rolls back leaves no event, and its audit event goes with it', async (t) => {
  const owner = await makeUser(service);
  const countIn = async (em: EntityManager) => {
    const [row] = await em.execute<Array<{ count: string }>>('select count(*) from events where organization_id = ?', [owner.organizationId]);
    return Number(row?.count);
  };
  const events = await countIn(service.orm.em.fork());
  const audited = (await auditIdsOf(owner.organizationId)).length;
  await t.throwsAsync(
    service.orm.em.fork().transactional(async (em) => {
      await em.execute('select id from organizations where id = ? for update', [owner.organizationId]);
      await appendAuditEvents(em, owner.organizationId, [
        { actor: { type: 'user', id: owner.id }, action: 'org.updated', target: { type: 'organization', id: owner.organizationId }, changes: { name: ['a', 'b'] } },
      ]);
      t.is(await countIn(em), events + 1, "the event is written in the change's transaction");
      throw new Error('the change fails after its audit append');
    }),
    { message: 'the change fails after its audit append' },
  );
  t.is(await countIn(service.orm.em.fork()), events);
  t.is((await auditIdsOf(owner.organizationId)).length, audited);
});

test("a person's sign-ins stay out of the events; a service account's creation is an event outside any organization", async (t) => {
  const { key } = await makeServiceAccount(service, []);
  const user = await makeUser(service);
  const created = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const reader = new FeedReader(service, key, { types: 'service_account' });
  const events = await reader.until((read) => read.some((event) => event.data.object.id === created.account.id));
  t.like(events.find((event) => event.data.object.id === created.account.id), {
    type: 'service_account.created',
    organization_id: null,
    data: { changes: { name: { before: null, after: created.account.name }, trusted: { before: null, after: true } } },
  });
  const everything = await new FeedReader(service, key).until((read) => read.some((event) => event.data.object.id === created.account.id));
  t.false(everything.some((event) => event.type.startsWith('session.')));
  t.false(JSON.stringify(everything).includes(created.key), 'never a key');
  t.true(everything.some((event) => event.type === 'organization.created' && event.organization_id === user.organizationId));
});

test('every audit action the services record has a catalogue entry, which decides what its event may say', (t) => {
  const recorded = auditActionsIn('src/services');
  t.true(recorded.size > 30, `found the actions (${recorded.size})`);
  const missing = [...recorded].filter((action) => eventTypeOf(action) !== null && !EVENT_CATALOGUE[action]);
  t.deepEqual(missing, []);
});

test("the docs' table of types lists every published type with the fields its data carries", (t) => {
  const page = readFileSync('docs/audit-and-events.md', 'utf8');
  const rows = [...page.matchAll(/^\| `([a-z_.]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map(([, type = '', fields = '']) => [type, fields.trim()]);
  const documented = rows.filter(([type]) => catalogueTypes().some((entry) => entry.type === type));
  t.deepEqual(
    documented,
    catalogueTypes().map(({ type, kind }) => [type, kind.fields.map((field) => `\`${field}\``).join(', ')]),
  );
});
