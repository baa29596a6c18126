import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActor } from '../audit/audit-chain.ts';
import { userActor } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import type { TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import { organizationRoleTuple, roleChange, teamMemberTuple, workspaceRoleTuple } from '../authz/relationships.ts';
import { CATALOGUE_NAMES } from '../authz/role-catalogue.ts';
import { assignmentRevocations } from '../authz/role-relationships.ts';
import type { RelationshipUpdate } from '../authz/types.ts';
import {
  CustomRoleAssignment,
  Organization,
  OrganizationMembership,
  TeamMembership,
  User,
  WorkspaceMembership,
  type OrganizationRole,
  type ServiceAccount,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { BadRequest, Conflict, Forbidden, NotFound } from '../errors.ts';
import type { InviterAuthority } from './inviter-authority.ts';
import type { RoleEscalationGuard } from './role-escalation.ts';
import type { OrganizationService } from './organization.service.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import { assertInScope } from './service-account-scope.ts';

/** A member with the custom roles they hold themselves. */
export interface ListedMember {
  membership: OrganizationMembership;
  customRoles: CustomRoleAssignment[];
}

/** Roles a member can be given; ownership only moves by transfer. */
export type AssignableRole = Exclude<OrganizationRole, 'owner'>;

/**
 * The memberships of an organization: adding, re-roling and removing members. A user asking to
 * add someone proposes a membership that person must accept (InvitationService.proposeMembership);
 * only trusted callers add one directly.
 */
export class OrganizationMemberService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;
  private readonly inviterAuthority: InviterAuthority;
  private readonly escalation: RoleEscalationGuard;

  constructor(
    orm: Orm,
    unitOfWork: TenantUnitOfWork,
    access: TenantAccess,
    organizations: OrganizationService,
    inviterAuthority: InviterAuthority,
    escalation: RoleEscalationGuard,
  ) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
    this.organizations = organizations;
    this.inviterAuthority = inviterAuthority;
    this.escalation = escalation;
  }

  /**
   * Adds a member at once, without their consent: for trusted callers only, who answer for it
   * themselves (the CLI, a `--trusted` service account, in its organizations if scoped). No
   * permission is asked of `adder`; the plan's member limit still holds.
   */
  async add(adder: AuditActor, organizationId: string, userId: string, role: AssignableRole): Promise<Written<OrganizationMembership>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, found) => {
      if (!found) throw refused('org:invite');
      const user = await em.findOne(User, { id: userId });
      if (!user) throw new NotFound('No user has that id');
      if (await em.findOne(OrganizationMembership, { organization: found, user })) {
        throw new Conflict('That user is already a member of this organization');
      }
      await this.organizations.assertRoomFor(em, found, 'members');
      const membership = new OrganizationMembership(found, user, role);
      em.persist(membership);
      const workspaceMembership = await this.organizations.defaultWorkspaceMembership(em, found, user);
      if (workspaceMembership) em.persist(workspaceMembership);
      await em.flush();
      return {
        result: membership,
        grantAfterCommit: [
          organizationRoleTuple(membership),
          ...(workspaceMembership ? [workspaceRoleTuple(workspaceMembership)] : []),
        ],
        audit: [
          {
            actor: adder,
            action: 'org.member.added',
            target: { type: 'user', id: user.id },
            changes: {
              role: [null, role],
              ...(workspaceMembership ? { default_workspace_role: [null, workspaceMembership.role] } : {}),
            },
          },
        ],
      };
    });
  }

  /** A service account adds directly only when trusted (backfills, provisioning), and only in its organizations if scoped. */
  async addAsService(account: ServiceAccount, organizationId: string, userId: string, role: AssignableRole): Promise<Written<OrganizationMembership>> {
    if (!account.trusted) throw new Forbidden(`Service account ${account.name} is not trusted: only a trusted account adds members without their consent`);
    assertInScope(account, organizationId);
    return this.add({ type: 'service_account', id: account.id }, organizationId, userId, role);
  }

  /** A page of members, each with the custom roles they hold themselves (one query for the page). */
  async list(actorId: string, organizationId: string, page: PageRequest): Promise<Page<ListedMember>> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    const memberships = await this.orm.em.find(
      OrganizationMembership,
      { organization, ...afterKeyset(page.after) },
      { ...pageOptions(page), populate: ['user'] },
    );
    const held = await this.orm.em.find(
      CustomRoleAssignment,
      { role: { organization }, user: { $in: memberships.map((membership) => membership.user.id) } },
      { populate: ['role', 'workspace'], orderBy: { createdAt: 'asc', id: 'asc' } },
    );
    return toPage(memberships, page.limit, (membership) => ({
      membership,
      customRoles: held.filter((assignment) => assignment.user?.id === membership.user.id),
    }));
  }

  /**
   * DELETE old + TOUCH new in one SpiceDB write, before the commit: a demotion is in force on
   * return, and the pending invitations the member can no longer send are revoked with it.
   */
  async changeRole(
    actorId: string,
    organizationId: string,
    userId: string,
    role: AssignableRole,
  ): Promise<Written<OrganizationMembership>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:update_member');
      const membership = await this.membershipOf(em, found, userId);
      if (membership.role === 'owner') {
        throw new BadRequest("The owner's role cannot change; transfer ownership instead");
      }
      if (membership.role === role) return { result: membership };
      // org:update_member can come from a custom role: making an admin gives everything a role can
      // grant, so only someone who holds all of it may; demoting one needs holding what they hold.
      if (role === 'admin') await this.escalation.assertHoldsAll(actorId, found, CATALOGUE_NAMES);
      else await this.escalation.assertOutranksAll(actorId, found, [userId]);
      const before = organizationRoleTuple(membership);
      const previousRole = membership.role;
      membership.role = role;
      return {
        result: membership,
        writeBeforeCommit: roleChange(before, organizationRoleTuple(membership)),
        afterWrite: (em, freshness) => this.inviterAuthority.revokeUnsendable(em, found, userId, userActor(actorId), freshness),
        audit: [
          { actor: userActor(actorId), action: 'org.member.role_changed', target: { type: 'user', id: userId }, changes: { role: [previousRole, role] } },
        ],
      };
    });
  }

  /**
   * Removes a member (org:remove_member) or lets a member leave, along with their memberships in
   * the organization's workspaces and teams and their custom roles. Their tuples are deleted before the commit, and the
   * pending invitations they sent, which they can no longer send, are revoked with them.
   */
  async remove(actorId: string, organizationId: string, userId: string): Promise<Written<void>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const leaving = actorId === userId;
      const found = await this.access.requireOnOrganization(organization, actorId, leaving ? 'org:view' : 'org:remove_member');
      const membership = await this.membershipOf(em, found, userId);
      if (membership.role === 'owner') {
        throw new BadRequest('The owner cannot be removed; transfer ownership first');
      }
      const workspaceMemberships = await em.find(WorkspaceMembership, {
        user: userId,
        workspace: { organization: found },
      });
      const teamMemberships = await em.find(TeamMembership, { user: userId, team: { organization: found } });
      const customRoles = await em.find(CustomRoleAssignment, { user: userId, role: { organization: found } });
      const revoked: RelationshipUpdate[] = [
        ...[organizationRoleTuple(membership), ...workspaceMemberships.map(workspaceRoleTuple), ...teamMemberships.map(teamMemberTuple)].map(
          (relationship): RelationshipUpdate => ({ operation: 'delete', relationship }),
        ),
        // Their custom roles, across the organization and bound in its workspaces.
        ...(await assignmentRevocations(em, { organizationId: found.id, userId })),
      ];
      em.remove([membership, ...workspaceMemberships, ...teamMemberships, ...customRoles]);
      return {
        result: undefined,
        writeBeforeCommit: revoked,
        afterWrite: (em, freshness) => this.inviterAuthority.revokeUnsendable(em, found, userId, userActor(actorId), freshness),
        audit: [
          {
            actor: userActor(actorId),
            action: leaving ? 'org.member.left' : 'org.member.removed',
            target: { type: 'user', id: userId },
            changes: { role: [membership.role, null] },
          },
        ],
      };
    });
  }

  private async membershipOf(em: EntityManager, organization: Organization, userId: string): Promise<OrganizationMembership> {
    const membership = await em.findOne(OrganizationMembership, { organization, user: userId });
    if (!membership) throw new NotFound('That user is not a member of this organization');
    return membership;
  }
}
