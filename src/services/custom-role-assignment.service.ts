import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
import { refused } from '../authz/access.ts';
import { isCatalogueName } from '../authz/role-catalogue.ts';
import { roleAssignmentTuples } from '../authz/role-relationships.ts';
import type { Written } from '../authz/tenant-unit-of-work.ts';
import { CustomRole, CustomRoleAssignment, OrganizationMembership, Team, Workspace, type Organization } from '../db/entities/index.ts';
import { NotFound, PaymentRequired, ValidationFailed } from '../errors.ts';
import type { CustomRoleService } from './custom-role.service.ts';
import type { OrganizationService } from './organization.service.ts';
import type { RoleEscalationGuard } from './role-escalation.ts';

/** Who holds a custom role: a member of the organization, or one of its teams (every member, nested teams included). */
export type RoleHolder = { userId: string } | { teamId: string };

/** Where: across the organization (null), or in one of its workspaces only. */
export interface RolePlacement {
  holder: RoleHolder;
  workspaceId: string | null;
  /** The organization the request named (its members' route): a role of another one is refused as hidden. */
  organizationId?: string | undefined;
}

/**
 * Giving and taking custom roles (org:manage_roles). Giving one asks that the actor hold what it
 * grants where it is given; taking one asks the same, and that its holder hold no more than the
 * actor. A holder holds at most the plan's `custom_roles_per_member`. Idempotent: giving a role
 * held already, or taking one not held, changes nothing and records nothing.
 */
export class CustomRoleAssignmentService {
  private readonly roles: CustomRoleService;
  private readonly organizations: OrganizationService;
  private readonly escalation: RoleEscalationGuard;

  constructor(roles: CustomRoleService, organizations: OrganizationService, escalation: RoleEscalationGuard) {
    this.roles = roles;
    this.organizations = organizations;
    this.escalation = escalation;
  }

  async assign(actorId: string, roleId: string, placement: RolePlacement): Promise<Written<CustomRoleAssignment>> {
    return this.roles.inRole(actorId, roleId, async (em, role) => {
      const { subject, workspace } = await this.resolve(em, role, placement);
      await this.escalation.assertHoldsAll(actorId, role.organization, role.permissions.filter(isCatalogueName), workspace);
      const existing = await em.findOne(CustomRoleAssignment, { role, ...subject, workspace }, { populate: ['role', 'user', 'team', 'workspace'] });
      if (existing) return { result: existing };
      await this.assertRoomFor(em, role.organization, subject);
      const assignment = new CustomRoleAssignment(role, subject, workspace);
      em.persist(assignment);
      await em.flush();
      return {
        result: assignment,
        grantAfterCommit: roleAssignmentTuples(assignment),
        audit: [{ actor: userActor(actorId), action: 'org.role.assigned', target: targetOf(placement.holder), changes: changesOf(role, workspace, 'assigned') }],
      };
    });
  }

  async unassign(actorId: string, roleId: string, placement: RolePlacement): Promise<Written<void>> {
    return this.roles.inRole(actorId, roleId, async (em, role) => {
      const { subject, workspace } = await this.resolve(em, role, placement);
      await this.escalation.assertHoldsAll(actorId, role.organization, role.permissions.filter(isCatalogueName), workspace);
      if ('user' in subject) await this.escalation.assertOutranksAll(actorId, role.organization, [subject.user.id]);
      const assignment = await em.findOne(CustomRoleAssignment, { role, ...subject, workspace }, { populate: ['role', 'user', 'team', 'workspace'] });
      if (!assignment) throw new NotFound('That member or team does not hold this role there');
      em.remove(assignment);
      return {
        result: undefined,
        writeBeforeCommit: roleAssignmentTuples(assignment).map((relationship) => ({ operation: 'delete' as const, relationship })),
        audit: [{ actor: userActor(actorId), action: 'org.role.unassigned', target: targetOf(placement.holder), changes: changesOf(role, workspace, 'unassigned') }],
      };
    });
  }

  /** The holder among the role's organization's members or teams, and the workspace among its workspaces: else 422. */
  private async resolve(
    em: EntityManager,
    role: CustomRole,
    { holder, workspaceId, organizationId }: RolePlacement,
  ): Promise<{ subject: { user: OrganizationMembership['user'] } | { team: Team }; workspace: Workspace | null }> {
    if (organizationId !== undefined && organizationId !== role.organization.id) throw refused('org:manage_roles');
    const workspace = workspaceId === null ? null : await em.findOne(Workspace, { id: workspaceId, organization: role.organization });
    if (workspaceId !== null && !workspace) throw new ValidationFailed([{ field: 'params.workspace_id', message: "is not a workspace of the role's organization" }]);
    if ('teamId' in holder) {
      const team = await em.findOne(Team, { id: holder.teamId, organization: role.organization });
      if (!team) throw new ValidationFailed([{ field: 'params.team_id', message: "is not a team of the role's organization" }]);
      return { subject: { team }, workspace };
    }
    const membership = await em.findOne(OrganizationMembership, { organization: role.organization, user: holder.userId }, { populate: ['user'] });
    if (!membership) throw new ValidationFailed([{ field: 'params.user_id', message: "is not a member of the role's organization" }]);
    return { subject: { user: membership.user }, workspace };
  }

  /** 402 when the holder already holds as many custom roles in the organization as its plan allows. */
  private async assertRoomFor(em: EntityManager, organization: Organization, subject: { user: { id: string } } | { team: Team }): Promise<void> {
    const limit = this.organizations.limitsOf(organization).custom_roles_per_member;
    if (limit === null) return;
    const held = await em.count(CustomRoleAssignment, {
      role: { organization },
      ...('user' in subject ? { user: subject.user.id } : { team: subject.team }),
    });
    if (held >= limit) throw new PaymentRequired(`The ${organization.subscriptionTier} plan allows at most ${limit} custom roles per member`);
  }
}

function targetOf(holder: RoleHolder): { type: string; id: string } {
  return 'teamId' in holder ? { type: 'team', id: holder.teamId } : { type: 'user', id: holder.userId };
}

function changesOf(role: CustomRole, workspace: Workspace | null, direction: 'assigned' | 'unassigned'): Record<string, [unknown, unknown]> {
  const present = { role_id: role.id, role_name: role.name, workspace_id: workspace?.id ?? null };
  return Object.fromEntries(
    Object.entries(present).map(([field, value]) => [field, direction === 'assigned' ? [null, value] : [value, null]]),
  ) as Record<string, [unknown, unknown]>;
}


