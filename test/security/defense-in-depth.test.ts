import test from 'ava';
import type { Relationship } from '../../src/authz/types.ts';
import { as, makeTeam, makeWorkspaceTenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * schema.zed counts a workspace role only while its holder is a member of the workspace's
 * organization. A tuple that lingers after someone left (a failed revocation, a bug in a service,
 * a hand-made write) must grant nothing: each case puts one back behind the service's back.
 */

const service = useTestService(test);

async function workspacePermission(userId: string, workspaceId: string, permission: string): Promise<boolean> {
  const { allowed } = await service.spicedb.checkPermission(
    { resource: { type: 'workspace', id: workspaceId }, permission, subject: { type: 'user', id: userId } },
    { kind: 'fully_consistent' },
  );
  return allowed;
}

test("a workspace role tuple left behind for someone who left the organization grants nothing", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  for (const [user, relation] of [[tenant.workspaceAdmin, 'admin'], [tenant.editor, 'editor'], [tenant.viewer, 'viewer']] as const) {
    t.is((await as(service, user).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${user.id}`)).status, 204);
    const lingering: Relationship = { resource: { type: 'workspace', id: tenant.spaceId }, relation, subject: { type: 'user', id: user.id } };
    await service.spicedb.writeRelationships([{ operation: 'touch', relationship: lingering }]);
    t.false(await workspacePermission(user.id, tenant.spaceId, 'view'), relation);
    t.is((await as(service, user).get(`/api/v1/workspaces/${tenant.spaceId}`)).status, 403, relation);
  }
});

test("a team membership left behind for someone who left grants none of the team's workspace roles", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const teamId = await makeTeam(service, tenant);
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, teamId, { userId: tenant.member.id }));
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.spaceId, { teamId }, 'editor'));
  t.true(await workspacePermission(tenant.member.id, tenant.spaceId, 'edit'));
  t.is((await as(service, tenant.member).send('DELETE', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`)).status, 204);
  const lingering: Relationship = { resource: { type: 'team', id: teamId }, relation: 'member', subject: { type: 'user', id: tenant.member.id } };
  await service.spicedb.writeRelationships([{ operation: 'touch', relationship: lingering }]);
  t.false(await workspacePermission(tenant.member.id, tenant.spaceId, 'view'));
  t.false(await workspacePermission(tenant.member.id, tenant.spaceId, 'edit'));
});
