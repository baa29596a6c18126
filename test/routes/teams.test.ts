import test from 'ava';
import { Team } from '../../src/db/entities/index.ts';
import { as, makeTeam, makeTenant } from '../support/factories.ts';
import type { TeamBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const teamsOf = (organizationId: string) => `/api/v1/orgs/${organizationId}/teams`;
const teamTuples = (teamId: string) => service.spicedb.readRelationships({ resourceType: 'team', resourceId: teamId });

test('an admin creates a team: 201 with the team, its row, and its tuple under the organization', async (t) => {
  const tenant = await makeTenant(service);
  const response = await as(service, tenant.admin).send('POST', teamsOf(tenant.organizationId), { name: 'Support', description: 'First line' });
  t.is(response.status, 201);
  t.truthy(response.headers.get('zedtoken'));
  const body = (await response.json()) as TeamBody;
  t.like(body, { organization_id: tenant.organizationId, name: 'Support', description: 'First line' });
  t.is((await service.orm.em.fork().findOneOrFail(Team, { id: body.id })).name, 'Support');
  t.deepEqual(
    (await teamTuples(body.id)).map((tuple) => [tuple.relation, tuple.subject.id]),
    [['organization', tenant.organizationId]],
  );
});

test('every member of the organization sees its teams; a stranger gets 403', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant, 'Support');
  t.like(await (await as(service, tenant.member).get(`/api/v1/teams/${teamId}`)).json(), { id: teamId, name: 'Support' });
  t.deepEqual(
    ((await (await as(service, tenant.member).get(teamsOf(tenant.organizationId))).json()) as TeamBody[]).map((team) => team.name),
    ['Support'],
  );
  t.is((await as(service, tenant.stranger).get(`/api/v1/teams/${teamId}`)).status, 403);
  t.is((await as(service, tenant.stranger).get(teamsOf(tenant.organizationId))).status, 403);
});

test('the team list is paged, with the next page in the Link header', async (t) => {
  const tenant = await makeTenant(service);
  for (const name of ['One', 'Two', 'Three']) await makeTeam(service, tenant, name);
  const first = await as(service, tenant.owner).get(`${teamsOf(tenant.organizationId)}?limit=2`);
  t.deepEqual(((await first.json()) as TeamBody[]).map((team) => team.name), ['One', 'Two']);
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
  t.deepEqual(((await (await as(service, tenant.owner).get(next)).json()) as TeamBody[]).map((team) => team.name), ['Three']);
});

test('team names are unique within an organization: 409 on create and on rename', async (t) => {
  const tenant = await makeTenant(service);
  await makeTeam(service, tenant, 'Support');
  const other = await makeTeam(service, tenant, 'Sales');
  t.is((await as(service, tenant.owner).send('POST', teamsOf(tenant.organizationId), { name: 'Support' })).status, 409);
  t.is((await as(service, tenant.owner).send('PATCH', `/api/v1/teams/${other}`, { name: 'Support' })).status, 409);
  t.is(await service.orm.em.fork().count(Team, { organization: tenant.organizationId }), 2);
});

test('PATCH renames and re-describes a team; bad fields answer 422 and change nothing', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant, 'Support');
  const response = await as(service, tenant.admin).send('PATCH', `/api/v1/teams/${teamId}`, { name: 'Help desk', description: 'Second line' });
  t.like(await response.json(), { name: 'Help desk', description: 'Second line' });
  for (const body of [{ organization_id: tenant.organizationId }, { name: '' }, { name: '\u200b' }, { description: 'a'.repeat(2001) }]) {
    t.is((await as(service, tenant.owner).send('PATCH', `/api/v1/teams/${teamId}`, body)).status, 422, JSON.stringify(body).slice(0, 40));
  }
  t.is((await service.orm.em.fork().findOneOrFail(Team, { id: teamId })).name, 'Help desk');
});

test('deleting a team removes its row and its tuples before answering', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${teamId}`)).status, 204);
  t.is(await service.orm.em.fork().count(Team, { id: teamId }), 0);
  t.deepEqual(await teamTuples(teamId), []);
  t.is((await as(service, tenant.owner).get(`/api/v1/teams/${teamId}`)).status, 403);
});

test("deleting the organization removes its teams' tuples", async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}`)).status, 204);
  t.deepEqual(await teamTuples(teamId), []);
});
