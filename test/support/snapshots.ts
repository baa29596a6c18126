import { CustomRole, CustomRoleAssignment, Invitation, Organization, OrganizationMembership, Team, TeamMembership, Workspace, WorkspaceMembership } from '../../src/db/entities/index.ts';
import { tupleKey } from '../../src/authz/relationships.ts';
import type { TestService } from './test-service.ts';

/**
 * Everything Postgres and SpiceDB hold about one organization, in a comparable form, to prove
 * that a refused request changed nothing.
 */
export async function snapshotOrganization(service: TestService, organizationId: string) {
  const em = service.orm.em.fork();
  const organization = await em.findOne(Organization, { id: organizationId });
  const memberships = await em.find(OrganizationMembership, { organization: organizationId }, { orderBy: { id: 'asc' } });
  const workspaces = await em.find(Workspace, { organization: organizationId }, { orderBy: { id: 'asc' } });
  const workspaceMemberships = await em.find(
    WorkspaceMembership,
    { workspace: { organization: organizationId } },
    { orderBy: { id: 'asc' } },
  );
  const teams = await em.find(Team, { organization: organizationId }, { orderBy: { id: 'asc' } });
  const teamMemberships = await em.find(TeamMembership, { team: { organization: organizationId } }, { orderBy: { id: 'asc' } });
  // Proposed memberships are invitations: a refused proposal writes none.
  const invitations = await em.find(Invitation, { organization: organizationId }, { orderBy: { id: 'asc' } });
  const roles = await em.find(CustomRole, { organization: organizationId }, { orderBy: { id: 'asc' } });
  const roleAssignments = await em.find(CustomRoleAssignment, { role: { organization: organizationId } }, { orderBy: { id: 'asc' } });
  const tuples = [
    ...(await service.spicedb.readRelationships({ resourceType: 'organization', resourceId: organizationId })),
    ...(
      await Promise.all([
        ...workspaces.map((workspace) => service.spicedb.readRelationships({ resourceType: 'workspace', resourceId: workspace.id })),
        ...teams.map((team) => service.spicedb.readRelationships({ resourceType: 'team', resourceId: team.id })),
        ...roles.map((role) => service.spicedb.readRelationships({ resourceType: 'role', resourceId: role.id })),
        ...roleAssignments.map((row) => service.spicedb.readRelationships({ resourceType: 'role_binding', resourceId: row.id })),
      ])
    ).flat(),
  ];
  return {
    organization: organization && {
      name: organization.name,
      billingEmail: organization.billingEmail,
      subscriptionTier: organization.subscriptionTier,
    },
    memberships: memberships.map((row) => `${row.user.id}:${row.role}`),
    workspaces: workspaces.map((row) => `${row.id}:${row.name}`),
    workspaceMemberships: workspaceMemberships.map((row) => `${row.workspace.id}:${row.user?.id ?? row.team?.id}:${row.role}`),
    teams: teams.map((row) => `${row.id}:${row.name}:${row.description}`),
    teamMemberships: teamMemberships.map((row) => `${row.team.id}:${row.user?.id ?? row.memberTeam?.id}`),
    roles: roles.map((row) => `${row.id}:${row.name}:${row.description}:${row.permissions.join(',')}`),
    roleAssignments: roleAssignments.map((row) => `${row.role.id}:${row.user?.id ?? row.team?.id}:${row.workspace?.id ?? '-'}`),
    invitations: invitations.map((row) => `${row.id}:${row.state}:${row.invitee?.id ?? row.email}:${row.role}`),
    tuples: tuples.map(tupleKey).sort(),
  };
}
