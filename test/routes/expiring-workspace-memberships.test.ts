import test from 'ava';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { WorkspaceMembership } from '../../src/db/entities/index.ts';
import type { workspaceMemberListItem } from '../../src/routes/workspaces/schema.ts';
import { as, makeTeam, makeTenant, makeUser, type SignedUpUser } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { waitUntilExpired } from '../support/expiry.ts';
import { useTestService } from '../support/test-service.ts';
import type { z } from 'zod';

type WorkspaceMemberItem = z.output<typeof workspaceMemberListItem>;

/**
 * Guest and contractor access: a workspace membership with `expires_at` becomes a SpiceDB
 * relationship expiration. The waits are for correctness (the time must really pass), not timing.
 */

const service = useTestService(test);

const membersOf = (workspaceId: string) => `/api/v1/workspaces/${workspaceId}/members`;
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000);

const canView = async (user: SignedUpUser, workspaceId: string) =>
  (await as(service, user).get(`/api/v1/workspaces/${workspaceId}`)).status === 200;

const listed = async (viewer: SignedUpUser, workspaceId: string) =>
  ((await (await as(service, viewer).get(membersOf(workspaceId))).json()) as WorkspaceMemberItem[]).map((row) => row.subject.id);

test('an expiring membership grants until its time, then denies with no job running and leaves the list', async (t) => {
  const tenant = await makeTenant(service);
  const expiresAt = inSeconds(3);
  const response = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), {
    user_id: tenant.member.id,
    role: 'editor',
    expires_at: expiresAt.toISOString(),
  });
  t.is(response.status, 200);
  t.like(await response.json(), { user_id: tenant.member.id, role: 'editor', expires_at: expiresAt.toISOString() });
  t.true(await canView(tenant.member, tenant.workspaceId));
  t.true((await listed(tenant.owner, tenant.workspaceId)).includes(tenant.member.id));

  await waitUntilExpired(service, expiresAt);
  t.false(await canView(tenant.member, tenant.workspaceId));
  t.is((await as(service, tenant.member).get(`/api/v1/workspaces/${tenant.workspaceId}/permissions`)).status, 403);
  t.false((await listed(tenant.owner, tenant.workspaceId)).includes(tenant.member.id));
  t.is((await as(service, tenant.owner).send('PATCH', `${membersOf(tenant.workspaceId)}/${tenant.member.id}`, { role: 'admin' })).status, 404);
  // The row stays until replaced: adding them again is a new membership, not a conflict.
  t.is(await service.orm.em.fork().count(WorkspaceMembership, { workspace: tenant.workspaceId, user: tenant.member.id }), 1);
  const again = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), { user_id: tenant.member.id, role: 'viewer' });
  t.is(again.status, 200);
  t.like(await again.json(), { role: 'viewer', expires_at: null });
  t.true(await canView(tenant.member, tenant.workspaceId));
});

test("a team's expiring role ends for every member, nested teams included", async (t) => {
  const tenant = await makeTenant(service);
  const [outer, inner] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, inner, { userId: tenant.member.id }));
  await seed(service, ({ teamMembers }) => teamMembers.add(tenant.owner.id, outer, { teamId: inner }));
  const expiresAt = inSeconds(3);
  const response = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), {
    team_id: outer,
    role: 'viewer',
    expires_at: expiresAt.toISOString(),
  });
  t.is(response.status, 200);
  t.true(await canView(tenant.member, tenant.workspaceId));
  await waitUntilExpired(service, expiresAt);
  t.false(await canView(tenant.member, tenant.workspaceId));
  t.false((await listed(tenant.owner, tenant.workspaceId)).includes(outer));
});

test("changing an expiring member's role keeps the expiry", async (t) => {
  const tenant = await makeTenant(service);
  const expiresAt = inSeconds(3600);
  await seed(service, ({ workspaceMembers }) =>
    workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: tenant.member.id }, 'viewer', expiresAt),
  );
  const response = await as(service, tenant.owner).send('PATCH', `${membersOf(tenant.workspaceId)}/${tenant.member.id}`, { role: 'editor' });
  t.like(await response.json(), { role: 'editor', expires_at: expiresAt.toISOString() });
  const tuples = await service.spicedb.readRelationships({
    resourceType: 'workspace',
    resourceId: tenant.workspaceId,
    subject: { type: 'user', id: tenant.member.id },
  });
  t.deepEqual(tuples.map((tuple) => [tuple.relation, tuple.expiresAt?.toISOString()]), [['editor', expiresAt.toISOString()]]);
});

test('PATCH moves the end: sooner takes access away at the new time, later or null keeps it, and the audit log records it', async (t) => {
  const tenant = await makeTenant(service);
  const [shortened, extended] = [await makeUser(service), await makeUser(service)];
  for (const user of [shortened, extended]) {
    await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, user.id, 'member'));
  }
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: shortened.id }, 'viewer'));
  await seed(service, ({ workspaceMembers }) =>
    workspaceMembers.add(tenant.owner.id, tenant.workspaceId, { userId: extended.id }, 'viewer', inSeconds(3)),
  );
  const patch = (user: SignedUpUser, body: Record<string, unknown>) =>
    as(service, tenant.owner).send('PATCH', `${membersOf(tenant.workspaceId)}/${user.id}`, body);

  const soon = inSeconds(3);
  const sooner = await patch(shortened, { expires_at: soon.toISOString() });
  t.is(sooner.status, 200);
  t.like(await sooner.json(), { role: 'viewer', expires_at: soon.toISOString() });
  const later = await patch(extended, { expires_at: null });
  t.is(later.status, 200);
  t.like(await later.json(), { role: 'viewer', expires_at: null });

  await waitUntilExpired(service, soon);
  t.false(await canView(shortened, tenant.workspaceId), 'the sooner end took effect');
  t.true(await canView(extended, tenant.workspaceId), 'the membership that no longer ends outlived its old end');

  const events = await service.orm.em.fork().execute<Array<{ target_id: string; changes: Record<string, unknown> }>>(
    "select target_id, changes from audit_events where organization_id = ? and action = 'workspace.member.role_changed'",
    [tenant.organizationId],
  );
  t.deepEqual(events.find((event) => event.target_id === shortened.id)?.changes.expires_at, [null, soon.toISOString()]);
  t.is((await patch(extended, {})).status, 422, 'a PATCH must change something');
});

test('expires_at in the past, more than a year away, or not RFC 3339 answers 422 on that field and changes nothing', async (t) => {
  const tenant = await makeTenant(service);
  const before = await snapshotOrganization(service, tenant.organizationId);
  const aYearAndADay = new Date(Date.now() + 367 * 24 * 3600 * 1000).toISOString();
  for (const expires_at of [inSeconds(-60).toISOString(), aYearAndADay, 'tomorrow', '2030-01-01T00:00:00', 1893456000]) {
    const response = await as(service, tenant.owner).send('POST', membersOf(tenant.workspaceId), {
      user_id: tenant.member.id,
      role: 'viewer',
      expires_at,
    });
    t.is(response.status, 422, String(expires_at));
    t.like(await response.json(), { errors: [{ field: 'body.expires_at' }] });
  }
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test("a sign-in's default workspace is never one whose membership has expired", async (t) => {
  const user = await makeUser(service);
  const second = await seed(service, ({ workspaces }) => workspaces.create(user.id, user.organizationId, { name: 'Second' }));
  const secondId = second.result.workspace.id;
  for (const workspaceId of [user.workspaceId, secondId]) {
    t.is((await as(service, user).send('DELETE', `${membersOf(workspaceId)}/${user.id}`)).status, 204);
  }
  // The expiring membership is now the oldest: without the expiry it would be the sign-in's context.
  const expiresAt = inSeconds(3);
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(user.id, user.workspaceId, { userId: user.id }, 'viewer', expiresAt));
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(user.id, secondId, { userId: user.id }, 'viewer'));
  const signIn = async () =>
    ((await (await service.send('POST', '/api/v1/auth/email/login', { email: user.email, password: user.password })).json()) as SessionBody).context;
  t.is((await signIn()).workspace_id, user.workspaceId);
  await waitUntilExpired(service, expiresAt);
  t.is((await signIn()).workspace_id, secondId);
});
