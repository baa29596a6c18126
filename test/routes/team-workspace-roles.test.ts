import test from 'ava';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { WorkspaceMembership } from '../../src/db/entities/index.ts';
import type { workspaceMemberListItem } from '../../src/routes/workspaces/schema.ts';
import { as, makeTeam, makeTenant, makeUser, type SignedUpUser, type Tenant } from '../support/factories.ts';
import type { WorkspacePermissionsBody } from '../support/responses.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';
import type { z } from 'zod';

type WorkspaceMemberItem = z.output<typeof workspaceMemberListItem>;

const service = useTestService(test);

const membersOf = (workspaceId: string) => `/api/v1/workspaces/${workspaceId}/members`;

/** The workspace:* permissions the user holds on the workspace, as the API reports them (403: none). */
async function workspacePermissions(user: SignedUpUser, workspaceId: string): Promise<string[]> {
  const response = await as(service, user).get(`/api/v1/workspaces/${workspaceId}/permissions`);
  if (response.status === 403) return [];
  return ((await response.json()) as WorkspacePermissionsBody).permissions.filter((name) => name.startsWith('workspace:'));
}

/** A plain member of the tenant's organization, in a new team of it; the team is nested in `outer` if given. */
async function teamWithMember(tenant: Tenant, outer?: string): Promise<{ teamId: string; user: SignedUpUser }> {
  const user = await makeUser(service);
  await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, user.id, 'member'));
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: user.id }));
  if (outer) await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, outer, { teamId }));
  return { teamId, user };
}

test('a team given a workspace role passes it to every member, nested teams included; others get nothing', async (t) => {
  const tenant = await makeTenant(service);
  const { teamId, user: direct } = await teamWithMember(tenant);
  const { user: nested } = await teamWithMember(tenant, teamId);
  t.deepEqual(await workspacePermissions(direct, tenant.workspaceId), []);
  const response = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), { team_id: teamId, role: 'editor' });
  t.is(response.status, 200);
  t.like(await response.json(), { workspace_id: tenant.workspaceId, team_id: teamId, subject: { type: 'team', id: teamId }, role: 'editor' });
  for (const user of [direct, nested]) t.deepEqual(await workspacePermissions(user, tenant.workspaceId), ['workspace:view', 'workspace:edit']);
  t.deepEqual(await workspacePermissions(tenant.member, tenant.workspaceId), []);
});

test('the member list shows users and teams, each with its subject, users keeping their user fields', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant, 'Support');
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { teamId }, 'viewer'));
  const listed = (await (await as(service, tenant.owner).get(membersOf(tenant.workspaceId))).json()) as WorkspaceMemberItem[];
  t.deepEqual(
    listed.map(({ subject, user_id, team_id, username, name, role }) => ({ subject, user_id, team_id, username, name, role })),
    [
      {
        subject: { type: 'user', id: tenant.owner.id, username: tenant.owner.username, email: tenant.owner.email },
        user_id: tenant.owner.id,
        team_id: undefined,
        username: tenant.owner.username,
        name: undefined,
        role: 'admin',
      },
      { subject: { type: 'team', id: teamId, name: 'Support' }, user_id: undefined, team_id: teamId, username: undefined, name: 'Support', role: 'viewer' },
    ],
  );
});

test("a team of another organization, or no team at all, answers 422 on team_id and changes nothing", async (t) => {
  const tenant = await makeTenant(service);
  const foreignTeam = await makeTeam(service, await makeTenant(service));
  const before = await snapshotOrganization(service, tenant.organizationId);
  for (const teamId of [foreignTeam, '00000000-0000-4000-8000-00000000beef']) {
    const response = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), { team_id: teamId, role: 'admin' });
    t.is(response.status, 422);
    t.like(await response.json(), { errors: [{ field: 'body.team_id' }] });
  }
  for (const body of [{ role: 'viewer' }, { user_id: tenant.member.id, team_id: foreignTeam, role: 'viewer' }]) {
    t.is((await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), body)).status, 422);
  }
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('giving the same team a second role answers 409', async (t) => {
  const tenant = await makeTenant(service);
  const teamId = await makeTeam(service, tenant);
  t.is((await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), { team_id: teamId, role: 'viewer' })).status, 200);
  t.is((await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), { team_id: teamId, role: 'editor' })).status, 409);
});

test("changing a team's role, then removing it, changes its members' permissions before answering", async (t) => {
  const tenant = await makeTenant(service);
  const { teamId, user } = await teamWithMember(tenant);
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { teamId }, 'admin'));
  t.true((await workspacePermissions(user, tenant.workspaceId)).includes('workspace:manage_members'));
  const patched = await as(service, tenant.owner).send('PATCH', `${membersOf(tenant.workspaceId)}/${teamId}`, { role: 'viewer' });
  t.like(await patched.json(), { team_id: teamId, role: 'viewer' });
  t.deepEqual(await workspacePermissions(user, tenant.workspaceId), ['workspace:view']);
  t.is((await as(service, tenant.owner).send('DELETE', `${membersOf(tenant.workspaceId)}/${teamId}`)).status, 204);
  t.deepEqual(await workspacePermissions(user, tenant.workspaceId), []);
});

test("leaving the team, or the team's deletion, takes the workspace role away at once", async (t) => {
  const tenant = await makeTenant(service);
  const { teamId, user } = await teamWithMember(tenant);
  const { user: other } = await teamWithMember(tenant, teamId);
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { teamId }, 'viewer'));
  t.is((await as(service, user).send('DELETE', `/api/v1/teams/${teamId}/members/${user.id}`)).status, 204);
  t.deepEqual(await workspacePermissions(user, tenant.workspaceId), []);
  t.deepEqual(await workspacePermissions(other, tenant.workspaceId), ['workspace:view']);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${teamId}`)).status, 204);
  t.deepEqual(await workspacePermissions(other, tenant.workspaceId), []);
  t.is(await service.orm.em.fork().count(WorkspaceMembership, { team: teamId }), 0);
  t.deepEqual(await service.spicedb.readRelationships({ resourceType: 'workspace', subject: { type: 'team', id: teamId } }), []);
});
