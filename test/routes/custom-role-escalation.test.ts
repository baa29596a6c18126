import test from 'ava';
import { OPERATOR } from '../../src/audit/audit-log.ts';
import { as, giveCustomRole, makeCustomRole, makeTenant, makeUser, type SignedUpUser, type Tenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { snapshotOrganization } from '../support/snapshots.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * No escalation through custom roles, as a matrix: who may create, edit, assign and delete which
 * roles. A "role manager" is a plain member holding a custom role with org:manage_roles,
 * org:billing and workspace:view: they hand out exactly that, never more, and never touch a role
 * of someone who holds more than they do. Every refusal is a 403 that changes nothing.
 */

const service = useTestService(test, { environment: { PLAN_LIMITS: JSON.stringify(plans()) } });

function plans() {
  const roomy = { members: 20, workspaces: 5, custom_roles: 20, custom_roles_per_member: 10 };
  return { free: roomy, pro: roomy, enterprise: roomy };
}

type Actor = 'owner' | 'admin' | 'manager' | 'member' | 'stranger';

interface RoleTenant extends Tenant {
  manager: SignedUpUser;
  roles: { manager: string; billing: string; audit: string; workspaceEditor: string };
}

async function makeRoleTenant(): Promise<RoleTenant> {
  const tenant = await makeTenant(service);
  const manager = await makeUser(service);
  await seed(service, ({ members }) => members.add(OPERATOR, tenant.organizationId, manager.id, 'member'));
  const roles = {
    manager: await makeCustomRole(service, tenant, ['org:manage_roles', 'org:billing', 'workspace:view'], 'Role manager'),
    billing: await makeCustomRole(service, tenant, ['org:billing'], 'Billing'),
    audit: await makeCustomRole(service, tenant, ['org:audit_log'], 'Auditor'),
    workspaceEditor: await makeCustomRole(service, tenant, ['workspace:edit'], 'Workspace editor'),
  };
  await giveCustomRole(service, tenant, roles.manager, manager);
  // The admin holds the billing role too: they hold more than the manager does.
  await giveCustomRole(service, tenant, roles.billing, tenant.admin);
  return { ...tenant, manager, roles };
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

interface Case {
  name: string;
  call: (tenant: RoleTenant) => Call;
  allowed: Partial<Record<Actor, number>>;
}

const rolesOf = (t: RoleTenant) => `/api/v1/orgs/${t.organizationId}/roles`;
const memberRole = (t: RoleTenant, userId: string, roleId: string) => `/api/v1/orgs/${t.organizationId}/members/${userId}/roles/${roleId}`;

const cases: Case[] = [
  {
    name: 'create a role granting org:billing',
    call: (t) => ({ method: 'POST', path: rolesOf(t), body: { name: 'New billing', permissions: ['org:billing'] } }),
    allowed: { owner: 201, admin: 201, manager: 201 },
  },
  {
    name: 'create a role granting org:audit_log',
    call: (t) => ({ method: 'POST', path: rolesOf(t), body: { name: 'New auditor', permissions: ['org:audit_log'] } }),
    allowed: { owner: 201, admin: 201 },
  },
  {
    name: 'create a role granting workspace:edit in every workspace',
    call: (t) => ({ method: 'POST', path: rolesOf(t), body: { name: 'Editors', permissions: ['workspace:view', 'workspace:edit'] } }),
    allowed: { owner: 201, admin: 201 },
  },
  {
    name: 'edit the billing role to grant org:audit_log too',
    call: (t) => ({ method: 'PATCH', path: `/api/v1/roles/${t.roles.billing}`, body: { permissions: ['org:billing', 'org:audit_log'] } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    // The manager holds org:billing, but the admin who holds this role holds more.
    name: 'rename the billing role an admin holds',
    call: (t) => ({ method: 'PATCH', path: `/api/v1/roles/${t.roles.billing}`, body: { name: 'Finance' } }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'delete the auditor role',
    call: (t) => ({ method: 'DELETE', path: `/api/v1/roles/${t.roles.audit}` }),
    allowed: { owner: 204, admin: 204 },
  },
  {
    name: 'give a member the billing role',
    call: (t) => ({ method: 'PUT', path: memberRole(t, t.member.id, t.roles.billing) }),
    allowed: { owner: 200, admin: 200, manager: 200 },
  },
  {
    name: 'give a member the auditor role',
    call: (t) => ({ method: 'PUT', path: memberRole(t, t.member.id, t.roles.audit) }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'give a member the workspace editor role in the default workspace',
    call: (t) => ({ method: 'PUT', path: `/api/v1/workspaces/${t.workspaceId}/members/${t.member.id}/roles/${t.roles.workspaceEditor}` }),
    allowed: { owner: 200, admin: 200 },
  },
  {
    name: 'take the billing role from the admin',
    call: (t) => ({ method: 'DELETE', path: memberRole(t, t.admin.id, t.roles.billing) }),
    allowed: { owner: 204, admin: 204 },
  },
  {
    name: 'give oneself the auditor role',
    call: (t) => ({ method: 'PUT', path: memberRole(t, t.manager.id, t.roles.audit) }),
    allowed: { owner: 200, admin: 200 },
  },
];

/** Each actor's own request: "oneself" is whoever asks. */
function forActor(call: Call, tenant: RoleTenant, actor: SignedUpUser): Call {
  return { ...call, path: call.path.replace(tenant.manager.id, actor.id) };
}

for (const { name, call, allowed } of cases) {
  for (const actor of ['owner', 'admin', 'manager', 'member', 'stranger'] as const) {
    const expected = allowed[actor] ?? 403;
    test(`${name}: ${actor} gets ${expected}`, async (t) => {
      const tenant = await makeRoleTenant();
      const user = tenant[actor];
      const request = name.includes('oneself') ? forActor(call(tenant), tenant, user) : call(tenant);
      const before = await snapshotOrganization(service, tenant.organizationId);
      const response = await as(service, user).send(request.method, request.path, request.body);
      t.is(response.status, expected, await response.clone().text());
      if (expected === 403) {
        t.like(await response.json(), { type: 'urn:tenant-authz:problem:forbidden', status: 403 });
        t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before, 'a refusal changes nothing');
      }
    });
  }
}

test('a custom role with org:update_member cannot make an admin, nor demote one', async (t) => {
  const tenant = await makeRoleTenant();
  const roleId = await makeCustomRole(service, tenant, ['org:update_member'], 'Member editor');
  await giveCustomRole(service, tenant, roleId, tenant.manager);
  const before = await snapshotOrganization(service, tenant.organizationId);
  const manager = as(service, tenant.manager);
  t.is((await manager.send('PATCH', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.member.id}`, { role: 'admin' })).status, 403);
  t.is((await manager.send('PATCH', `/api/v1/orgs/${tenant.organizationId}/members/${tenant.admin.id}`, { role: 'member' })).status, 403);
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
});

test('a custom role with org:invite proposes members, never admins', async (t) => {
  const tenant = await makeRoleTenant();
  const roleId = await makeCustomRole(service, tenant, ['org:invite'], 'Inviter');
  await giveCustomRole(service, tenant, roleId, tenant.manager);
  const [asAdmin, asMember] = [await makeUser(service), await makeUser(service)];
  const before = await snapshotOrganization(service, tenant.organizationId);
  const manager = as(service, tenant.manager);
  const members = `/api/v1/orgs/${tenant.organizationId}/members`;
  t.is((await manager.send('POST', members, { user_id: asAdmin.id, role: 'admin' })).status, 403);
  t.is((await manager.send('POST', `/api/v1/orgs/${tenant.organizationId}/invitations`, { email: 'boss@example.com', role: 'admin' })).status, 403);
  t.deepEqual(await snapshotOrganization(service, tenant.organizationId), before);
  t.is((await manager.send('POST', members, { user_id: asMember.id, role: 'member' })).status, 200);
});
