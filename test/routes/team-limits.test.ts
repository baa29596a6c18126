import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { RelationshipUpdate } from '../../src/authz/types.ts';
import { Team } from '../../src/db/entities/index.ts';
import { as, bearer, makeServiceAccount, makeTeam, makeTenant, type Tenant } from '../support/factories.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * Teams are bounded, whatever the plan: how deep they nest (TEAMS_MAX_NESTING_DEPTH) and how many
 * an organization has (TEAMS_MAX_PER_ORGANIZATION). And a graph deeper than SpiceDB walks, however
 * it got there, answers a problem, never a 500.
 */

const MAX_DEPTH = 3;
const MAX_TEAMS = 6;
const service = useTestService(test, {
  environment: { TEAMS_MAX_NESTING_DEPTH: String(MAX_DEPTH), TEAMS_MAX_PER_ORGANIZATION: String(MAX_TEAMS) },
});

const membersOf = (teamId: string) => `/api/v1/teams/${teamId}/members`;

function nest(tenant: Tenant, outer: string, inner: string): Promise<Response> {
  return as(service, tenant.owner).send('POST', membersOf(outer), { team_id: inner });
}

interface Problem {
  type: string;
  status: number;
  errors?: Array<{ field: string; message: string }>;
}

test('nesting teams deeper than TEAMS_MAX_NESTING_DEPTH answers 422 on body.team_id, whichever end of a chain grows, and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const team = () => makeTeam(service, tenant);
  const [top, middle, bottom, below, left, right] = [await team(), await team(), await team(), await team(), await team(), await team()];
  t.is((await nest(tenant, top, middle)).status, 201);
  t.is((await nest(tenant, middle, bottom)).status, 201, 'three deep: the most allowed');
  t.is((await nest(tenant, left, right)).status, 201);
  const before = await snapshotOrganization(service, tenant.organizationId);

  const deeper = await nest(tenant, bottom, below);
  t.is(deeper.status, 422, 'a fourth level at the bottom');
  t.like(await deeper.json(), { errors: [{ field: 'body.team_id', message: 'would nest teams 4 deep; at most 3 are allowed (TEAMS_MAX_NESTING_DEPTH)' }] });
  const above = await nest(tenant, below, top);
  t.is(above.status, 422, 'a fourth level on top');
  t.is(((await above.json()) as Problem).errors?.[0]?.field, 'body.team_id');
  // Two chains of two joined into one of four: the depth counts both sides of the new link.
  const joined = await nest(tenant, middle, left);
  t.is(joined.status, 422, 'top > middle > left > right');
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);

  t.is((await nest(tenant, top, left)).status, 201, 'breadth is not depth: top holds two chains of two below it');
});

test('an organization holds at most TEAMS_MAX_PER_ORGANIZATION teams, also against concurrent creations: the rest answer 409 and create nothing', async (t) => {
  const tenant = await makeTenant(service);
  const create = (name: string) => as(service, tenant.owner).send('POST', `/api/v1/orgs/${tenant.organizationId}/teams`, { name });
  const statuses = await Promise.all(Array.from({ length: MAX_TEAMS + 3 }, (_, index) => create(`Team ${index}`).then((response) => response.status)));
  t.deepEqual(statuses.sort(), [...Array<number>(MAX_TEAMS).fill(201), 409, 409, 409]);
  t.is(await service.orm.em.fork().count(Team, { organization: tenant.organizationId }), MAX_TEAMS);
  const refused = await create('One too many');
  t.like(await refused.json(), { status: 409, type: 'urn:tenant-authz:problem:conflict' });

  const [doomed] = await service.orm.em.fork().find(Team, { organization: tenant.organizationId }, { limit: 1 });
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${doomed?.id ?? ''}`)).status, 204);
  t.is((await create('Room again')).status, 201, 'deleting one makes room');
});

test('a graph deeper than SpiceDB walks, written behind the service, answers 503 graph-too-deep on checks, lookups and tenant routes, never 500', async (t) => {
  const tenant = await makeTenant(service);
  // Sixty teams inside each other, straight into SpiceDB, what the bound above now refuses to
  // build, under a real team; the member is in the innermost one.
  const outermost = await makeTeam(service, tenant);
  const chain = [outermost, ...Array.from({ length: 59 }, () => randomUUID())];
  const tuples: RelationshipUpdate[] = [
    ...chain.slice(1).map((inner, index) => ({
      operation: 'touch' as const,
      relationship: { resource: { type: 'team', id: chain[index] ?? '' }, relation: 'member', subject: { type: 'team', id: inner, relation: 'member' } },
    })),
    {
      operation: 'touch',
      relationship: { resource: { type: 'team', id: chain.at(-1) ?? '' }, relation: 'member', subject: { type: 'user', id: tenant.member.id } },
    },
  ];
  await service.spicedb.writeRelationships(tuples);
  t.teardown(async () => {
    await service.spicedb.writeRelationships(tuples.map(({ relationship }) => ({ operation: 'delete', relationship })));
  });
  // Through the service, so the organization's ZedToken (which its routes read at) is newer than the chain.
  const role = await as(service, tenant.owner).send('POST', `/api/v1/workspaces/${tenant.workspaceId}/members`, { team_id: outermost, role: 'viewer' });
  t.is(role.status, 200);
  const { key } = await makeServiceAccount(service);
  const subject = { type: 'user', id: tenant.member.id };
  const workspace = { type: 'workspace', id: tenant.workspaceId };

  const answers = {
    'lookup-resources (the member)': await as(service, tenant.member).send('POST', '/api/v1/authz/lookup-resources', { resource_type: 'workspace', permission: 'view', subject }),
    'lookup-resources (a service)': await service.send('POST', '/api/v1/authz/lookup-resources', { resource_type: 'chatbot', permission: 'view', subject }, bearer(key)),
    'check (fully consistent)': await service.send('POST', '/api/v1/authz/check', { resource: workspace, permission: 'view', subject, consistency: 'fully_consistent' }, bearer(key)),
    'check (default)': await as(service, tenant.member).send('POST', '/api/v1/authz/check', { resource: workspace, permission: 'view', subject }),
    'GET /workspaces/{id}': await as(service, tenant.member).get(`/api/v1/workspaces/${tenant.workspaceId}`),
  };
  for (const [call, response] of Object.entries(answers)) {
    t.is(response.status, 503, call);
    t.is(response.headers.get('content-type'), 'application/problem+json', call);
    t.like(await response.json(), { type: 'urn:tenant-authz:problem:graph-too-deep', title: 'Authorization graph too deep' }, call);
  }
  const bulk = await service.send('POST', '/api/v1/authz/check-bulk', { items: [{ resource: workspace, permission: 'view', subject }] }, bearer(key));
  t.is(bulk.status, 200, 'a bulk check answers per item');
  t.like(await bulk.json(), { results: [{ allowed: false }] });
});
