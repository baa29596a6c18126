import test from 'ava';
import { TenantAccess } from '../../src/authz/access.ts';
import { Authorizer } from '../../src/authz/authorizer.ts';
import { TenantUnitOfWork } from '../../src/authz/tenant-unit-of-work.ts';
import { organizationRoleTuple, roleChange } from '../../src/authz/relationships.ts';
import { connectSpiceDb } from '../../src/authz/spicedb.client.ts';
import { loadConfig } from '../../src/config.ts';
import { OrganizationMembership } from '../../src/db/entities/index.ts';
import { Unavailable } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { InviterAuthority } from '../../src/services/inviter-authority.ts';
import { RoleEscalationGuard } from '../../src/services/role-escalation.ts';
import { OrganizationMemberService } from '../../src/services/organization-member.service.ts';
import { OrganizationService } from '../../src/services/organization.service.ts';
import { makeTenant } from '../support/factories.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * The dangerous moments of a revocation, staged with real parts: permission checks go to the
 * service's SpiceDB, while the revocation's own write goes to a SpiceDB that cannot be reached
 * (a closed port), as if SpiceDB went away between the check and the write.
 */

const service = useTestService(test);

async function membersWithUnreachableWrites() {
  const config = loadConfig({
    DATABASE_URL: service.database.url,
    SPICEDB_ENDPOINT: '127.0.0.1:1',
    SPICEDB_PRESHARED_KEY: 'k',
    SPICEDB_INSECURE: 'true',
    SPICEDB_TIMEOUT_MS: '300',
  });
  const unreachable = await connectSpiceDb(config.spicedb, new Metrics());
  const logger = createLogger('silent');
  const authorizer = new Authorizer(service.spicedb);
  const access = new TenantAccess(authorizer);
  const organizations = new OrganizationService(
    service.orm,
    service.outbox,
    service.relay,
    new TenantUnitOfWork(service.orm, service.spicedb, service.outbox, service.relay, logger),
    authorizer,
    access,
    config.planLimits,
  );
  const unitOfWork = new TenantUnitOfWork(service.orm, unreachable, service.outbox, service.relay, logger);
  const members = new OrganizationMemberService(service.orm, unitOfWork, access, organizations, new InviterAuthority(authorizer), new RoleEscalationGuard(authorizer));
  return { members, close: () => unreachable.close() };
}

async function roleInPostgres(organizationId: string, userId: string) {
  return (await service.orm.em.fork().findOne(OrganizationMembership, { organization: organizationId, user: userId }))?.role;
}

async function granted(organizationId: string, userId: string, permission: string) {
  const result = await service.spicedb.checkPermission(
    { resource: { type: 'organization', id: organizationId }, permission, subject: { type: 'user', id: userId } },
    { kind: 'fully_consistent' },
  );
  return result.allowed;
}

test('a removal whose SpiceDB write fails answers Unavailable (503) and leaves Postgres unchanged', async (t) => {
  const tenant = await makeTenant(service);
  const { members, close } = await membersWithUnreachableWrites();
  t.teardown(close);
  await t.throwsAsync(members.remove(tenant.owner.id, tenant.organizationId, tenant.member.id), { instanceOf: Unavailable });
  t.is(await roleInPostgres(tenant.organizationId, tenant.member.id), 'member');
  t.true(await granted(tenant.organizationId, tenant.member.id, 'view'), 'both stores still agree');
});

test('a demotion whose SpiceDB write fails answers Unavailable (503) and leaves Postgres unchanged', async (t) => {
  const tenant = await makeTenant(service);
  const { members, close } = await membersWithUnreachableWrites();
  t.teardown(close);
  await t.throwsAsync(members.changeRole(tenant.owner.id, tenant.organizationId, tenant.admin.id, 'member'), {
    instanceOf: Unavailable,
  });
  t.is(await roleInPostgres(tenant.organizationId, tenant.admin.id), 'admin');
  t.true(await granted(tenant.organizationId, tenant.admin.id, 'invite'));
});

test('when the Postgres commit fails after SpiceDB took a role change, the change is undone in SpiceDB', async (t) => {
  const tenant = await makeTenant(service);
  const unitOfWork = new TenantUnitOfWork(service.orm, service.spicedb, service.outbox, service.relay, createLogger('silent'));
  await t.throwsAsync(
    unitOfWork.inOrganization(tenant.organizationId, async (em) => {
      const membership = await em.findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: tenant.member.id });
      const before = organizationRoleTuple(membership);
      // A second owner: the one-owner index rejects it when the transaction flushes, after SpiceDB was written.
      membership.role = 'owner';
      return {
        result: undefined,
        writeBeforeCommit: [
          { operation: 'delete', relationship: before },
          { operation: 'touch', relationship: organizationRoleTuple(membership) },
        ],
      };
    }),
  );
  t.is(await roleInPostgres(tenant.organizationId, tenant.member.id), 'member');
  t.false(await granted(tenant.organizationId, tenant.member.id, 'delete'), 'the owner tuple was taken back');
  t.true(await granted(tenant.organizationId, tenant.member.id, 'view'), 'the member tuple was put back');
});

test('a change that fails after its audit event was written leaves no event', async (t) => {
  const tenant = await makeTenant(service);
  const events = async () =>
    (await service.orm.em.fork().execute<Array<{ action: string }>>('select action from audit_events where organization_id = ? order by position', [tenant.organizationId])).map(
      (row) => row.action,
    );
  const before = await events();
  t.true(before.includes('org.member.added'));
  const { members, close } = await membersWithUnreachableWrites();
  t.teardown(close);
  // The event is appended before the SpiceDB write that fails, in the same transaction.
  await t.throwsAsync(members.remove(tenant.owner.id, tenant.organizationId, tenant.member.id), { instanceOf: Unavailable });
  t.deepEqual(await events(), before);
});

test('afterWrite sees the graph as the change leaves it; when it throws, nothing commits and SpiceDB is put back', async (t) => {
  const tenant = await makeTenant(service);
  const unitOfWork = new TenantUnitOfWork(service.orm, service.spicedb, service.outbox, service.relay, createLogger('silent'));
  const adminMayInvite: boolean[] = [];
  await t.throwsAsync(
    unitOfWork.inOrganization(tenant.organizationId, async (em) => {
      const membership = await em.findOneOrFail(OrganizationMembership, { organization: tenant.organizationId, user: tenant.admin.id });
      const before = organizationRoleTuple(membership);
      membership.role = 'member';
      return {
        result: undefined,
        writeBeforeCommit: roleChange(before, organizationRoleTuple(membership)),
        afterWrite: async (_em, freshness) => {
          const check = await service.spicedb.checkPermission(
            { resource: { type: 'organization', id: tenant.organizationId }, permission: 'invite', subject: { type: 'user', id: tenant.admin.id } },
            freshness ? { kind: 'at_least_as_fresh', zedToken: freshness } : { kind: 'fully_consistent' },
          );
          adminMayInvite.push(check.allowed);
          throw new Error('refused after the write');
        },
      };
    }),
    { message: 'refused after the write' },
  );
  t.deepEqual(adminMayInvite, [false], 'the demotion was in SpiceDB when afterWrite ran');
  t.is(await roleInPostgres(tenant.organizationId, tenant.admin.id), 'admin');
  t.true(await granted(tenant.organizationId, tenant.admin.id, 'invite'), 'the admin tuple was put back');
});
