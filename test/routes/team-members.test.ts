import test from 'ava';
import { TeamMembership } from '../../src/db/entities/index.ts';
import { as, makeTeam, makeTenant, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';
import type { z } from 'zod';
import type { teamMemberResponse } from '../../src/routes/teams/schema.ts';

type TeamMemberBody = z.output<typeof teamMemberResponse>;

const service = useTestService(test);

const membersOf = (teamId: string) => `/api/v1/teams/${teamId}/members`;

/** Whether SpiceDB counts the user a member of the team, nested teams included. */
async function isMember(teamId: string, userId: string): Promise<boolean> {
  const { allowed } = await service.spicedb.checkPermission(
    { resource: { type: 'team', id: teamId }, permission: 'member', subject: { type: 'user', id: userId } },
    { kind: 'fully_consistent' },
  );
  return allowed;
}

async function nest(tenant: Tenant, outer: string, inner: string): Promise<Response> {
  return as(service, tenant.owner).send('POST', membersOf(outer), { team_id: inner });
}

test('an admin adds an organization member to a team: 201, the row, the tuple, and the list shows them', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  const response = await as(service, tenant.admin).send('POST', membersOf(teamId), { user_id: tenant.member.id });
  t.is(response.status, 201);
  t.like(await response.json(), { team_id: teamId, subject: { type: 'user', id: tenant.member.id, username: tenant.member.username } });
  t.true(await isMember(teamId, tenant.member.id));
  const listed = (await (await as(service, tenant.member).get(membersOf(teamId))).json()) as TeamMemberBody[];
  t.deepEqual(listed.map((row) => row.subject), [
    { type: 'user', id: tenant.member.id, username: tenant.member.username, email: tenant.member.email },
  ]);
});

test('only members of the organization can join its teams, and only its own teams nest: 422 changing nothing', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  const outsider = await makeTenant(service);
  const foreignTeam = await makeTeam(service, outsider);
  const before = await snapshotOrganization(service, tenant.organizationId);
  for (const [body, field] of [
    [{ user_id: tenant.stranger.id }, 'body.user_id'],
    [{ team_id: foreignTeam }, 'body.team_id'],
    [{ team_id: '00000000-0000-4000-8000-00000000beef' }, 'body.team_id'],
  ] as const) {
    const response = await as(service, tenant.owner).send('POST', membersOf(teamId), body);
    t.is(response.status, 422);
    t.is(((await response.json()) as { errors: Array<{ field: string }> }).errors[0]?.field, field);
  }
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('a body with neither or both of user_id and team_id answers 422', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  for (const body of [{}, { user_id: tenant.member.id, team_id: teamId }, { user_id: 'nope' }]) {
    t.is((await as(service, tenant.owner).send('POST', membersOf(teamId), body)).status, 422, JSON.stringify(body));
  }
});

test('adding the same member twice answers 409', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  t.is((await as(service, tenant.owner).send('POST', membersOf(teamId), { user_id: tenant.member.id })).status, 201);
  t.is((await as(service, tenant.owner).send('POST', membersOf(teamId), { user_id: tenant.member.id })).status, 409);
});

test('teams nest: the members of a nested team, at any depth, are members of the outer one', async (t) => {
  const tenant = await makeTenant(service);
  const [outer, middle, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  t.false(await isMember(outer, tenant.member.id));
  t.is((await nest(tenant, middle, inner)).status, 201);
  const response = await nest(tenant, outer, middle);
  t.is(response.status, 201);
  t.like(await response.json(), { subject: { type: 'team', id: middle } });
  t.true(await isMember(outer, tenant.member.id));
  t.false(await isMember(inner, tenant.admin.id));
});

test('a nesting that would make a cycle answers 422 and writes nothing, at any depth and onto itself', async (t) => {
  const tenant = await makeTenant(service);
  const [a, b, c] = [await makeTeam(service, tenant), await makeTeam(service, tenant), await makeTeam(service, tenant)];
  t.is((await nest(tenant, a, b)).status, 201);
  t.is((await nest(tenant, b, c)).status, 201);
  const before = await snapshotOrganization(service, tenant.organizationId);
  for (const [outer, inner] of [[b, a], [c, a], [c, b], [a, a]] as const) {
    const response = await nest(tenant, outer, inner);
    t.is(response.status, 422);
    t.like(await response.json(), { errors: [{ field: 'body.team_id' }] });
  }
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('removing a member takes their membership away before answering; a non-member answers 404', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: tenant.member.id }));
  t.is((await as(service, tenant.admin).send('DELETE', `${membersOf(teamId)}/${tenant.member.id}`)).status, 204);
  t.false(await isMember(teamId, tenant.member.id));
  t.is((await as(service, tenant.admin).send('DELETE', `${membersOf(teamId)}/${tenant.member.id}`)).status, 404);
});

test('a member leaves a team by removing themself', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: tenant.member.id }));
  t.is((await as(service, tenant.member).send('DELETE', `${membersOf(teamId)}/${tenant.member.id}`)).status, 204);
  t.false(await isMember(teamId, tenant.member.id));
});

test('removing a nested team takes its members out of the outer one', async (t) => {
  const tenant = await makeTenant(service);
  const [outer, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  await nest(tenant, outer, inner);
  t.is((await as(service, tenant.owner).send('DELETE', `${membersOf(outer)}/${inner}`)).status, 204);
  t.false(await isMember(outer, tenant.member.id));
  t.true(await isMember(inner, tenant.member.id));
});

test('removing a user from the organization removes them from its teams in the same change', async (t) => {
  const tenant = await makeTenant(service);
  const [first, second] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  for (const teamId of [first, second]) {
    await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: tenant.member.id }));
  }
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`)).status, 204);
  t.false(await isMember(first, tenant.member.id));
  t.false(await isMember(second, tenant.member.id));
  t.is(await service.orm.em.fork().count(TeamMembership, { user: tenant.member.id }), 0);
});

test("deleting a team removes its place in other teams: its members no longer count in the outer one", async (t) => {
  const tenant = await makeTenant(service);
  const [outer, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  await nest(tenant, outer, inner);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${inner}`)).status, 204);
  t.false(await isMember(outer, tenant.member.id));
  t.deepEqual(
    (await service.spicedb.readRelationships({ resourceType: 'team', relation: 'member', subject: { type: 'team', id: inner } })),
    [],
  );
  t.deepEqual((await (await as(service, tenant.owner).get(membersOf(outer))).json()) as unknown[], []);
});

test('two nestings racing to close a cycle: exactly one is written, the other answers 422', async (t) => {
  const tenant = await makeTenant(service);
  const [a, b] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  const statuses = (await Promise.all([nest(tenant, a, b), nest(tenant, b, a)])).map((response) => response.status);
  t.deepEqual(statuses.sort(), [201, 422]);
  t.is(await service.orm.em.fork().count(TeamMembership, { team: { $in: [a, b] } }), 1);
  const nested = await service.spicedb.readRelationships({ resourceType: 'team', relation: 'member', subject: { type: 'team' } });
  t.is(nested.filter((tuple) => [a, b].includes(tuple.resource.id)).length, 1);
});
