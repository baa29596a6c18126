import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Written } from '../authz/tenant-unit-of-work.ts';
import { endOf, roleChange, workspaceRoleTuple } from '../authz/relationships.ts';
import {
  isLive,
  live,
  OrganizationMembership,
  Team,
  WorkspaceMembership,
  type User,
  type Workspace,
  type WorkspaceRole,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound, ValidationFailed } from '../errors.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import type { WorkspaceService } from './workspace.service.ts';

/** Who holds a workspace role: a member of the workspace's organization, or one of its teams. */
export type WorkspaceHolder = { userId: string } | { teamId: string };

/**
 * Workspace memberships: only members of the workspace's organization, and only its teams (whose
 * members, nested teams included, then hold the role), can hold one. One that has expired is
 * treated as gone: SpiceDB no longer counts its tuple, and lists and changes skip it.
 */
export class WorkspaceMemberService {
  private readonly orm: Orm;
  private readonly access: TenantAccess;
  private readonly workspaces: WorkspaceService;

  constructor(
    orm: Orm,
    access: TenantAccess,
    workspaces: WorkspaceService,
  ) {
    this.orm = orm;
    this.access = access;
    this.workspaces = workspaces;
  }

  /** With `expiresAt`, the role (and its tuple) ends then; an expired membership of the same holder is replaced. */
  async add(
    actorId: string,
    workspaceId: string,
    holder: WorkspaceHolder,
    role: WorkspaceRole,
    expiresAt: Date | null = null,
  ): Promise<Written<WorkspaceMembership>> {
    return this.workspaces.inWorkspace(actorId, workspaceId, 'workspace:manage_members', async (em, workspace) => {
      const found = 'userId' in holder ? await this.organizationUser(em, workspace, holder.userId) : await this.organizationTeam(em, workspace, holder.teamId);
      const existing = await em.findOne(WorkspaceMembership, { workspace, ...('userId' in holder ? { user: found } : { team: found }) });
      if (existing && isLive(existing)) throw new Conflict(`That ${'userId' in holder ? 'user' : 'team'} is already a member of this workspace`);
      if (existing) {
        em.remove(existing);
        await em.flush();
      }
      const membership = new WorkspaceMembership(workspace, found, role, expiresAt);
      em.persist(membership);
      await em.flush();
      return {
        result: membership,
        grantAfterCommit: [workspaceRoleTuple(membership)],
        audit: [
          {
            actor: userActor(actorId),
            action: 'workspace.member.added',
            target: holderOf(membership),
            changes: { workspace_id: [null, workspace.id], role: [null, role], ...(expiresAt && { expires_at: [null, expiresAt.toISOString()] }) },
          },
        ],
      };
    });
  }

  async list(actorId: string, workspaceId: string, page: PageRequest): Promise<Page<WorkspaceMembership>> {
    const workspace = await this.access.workspace(this.orm.em, actorId, workspaceId, 'workspace:view');
    const memberships = await this.orm.em.find(
      WorkspaceMembership,
      { workspace, $and: [live(), afterKeyset(page.after)] },
      { ...pageOptions(page), populate: ['user', 'team'] },
    );
    return toPage(memberships, page.limit, (membership) => membership);
  }

  /**
   * A new role, a new end, or both. `memberId` names a user or a team. A role change is DELETE old
   * + TOUCH new in one SpiceDB write before the commit; a new end alone is a revocation when it
   * comes sooner (written before the commit) and a grant when it comes later or never (after it,
   * through the outbox).
   */
  async change(
    actorId: string,
    workspaceId: string,
    memberId: string,
    changes: { role?: WorkspaceRole | undefined; expiresAt?: Date | null | undefined },
  ): Promise<Written<WorkspaceMembership>> {
    return this.workspaces.inWorkspace(actorId, workspaceId, 'workspace:manage_members', async (em, workspace) => {
      const membership = await this.membershipOf(em, workspace, memberId);
      const role = changes.role ?? membership.role;
      const expiresAt = changes.expiresAt === undefined ? membership.expiresAt : changes.expiresAt;
      const sameEnd = endOf(expiresAt) === endOf(membership.expiresAt);
      if (role === membership.role && sameEnd) return { result: membership };
      const before = workspaceRoleTuple(membership);
      const previous = { role: membership.role, expiresAt: membership.expiresAt };
      membership.role = role;
      membership.expiresAt = expiresAt;
      const after = workspaceRoleTuple(membership);
      const tupleWrite =
        role !== previous.role
          ? { writeBeforeCommit: roleChange(before, after) }
          : endOf(expiresAt) < endOf(previous.expiresAt)
            ? { writeBeforeCommit: [{ operation: 'touch' as const, relationship: after }] }
            : { grantAfterCommit: [after] };
      return {
        result: membership,
        ...tupleWrite,
        audit: [
          {
            actor: userActor(actorId),
            action: 'workspace.member.role_changed',
            target: holderOf(membership),
            changes: {
              workspace_id: [workspace.id, workspace.id],
              role: [previous.role, role],
              ...(!sameEnd && { expires_at: [previous.expiresAt?.toISOString() ?? null, expiresAt?.toISOString() ?? null] }),
            },
          },
        ],
      };
    });
  }

  /** Removes a user or a team (workspace:manage_members), or lets a member leave; in force before returning. */
  async remove(actorId: string, workspaceId: string, memberId: string): Promise<Written<void>> {
    const leaving = actorId === memberId;
    const permission = leaving ? 'workspace:view' : 'workspace:manage_members';
    return this.workspaces.inWorkspace(actorId, workspaceId, permission, async (em, workspace) => {
      const membership = await this.membershipOf(em, workspace, memberId);
      em.remove(membership);
      return {
        result: undefined,
        writeBeforeCommit: [{ operation: 'delete', relationship: workspaceRoleTuple(membership) }],
        audit: [
          {
            actor: userActor(actorId),
            action: leaving ? 'workspace.member.left' : 'workspace.member.removed',
            target: holderOf(membership),
            changes: { workspace_id: [workspace.id, null], role: [membership.role, null] },
          },
        ],
      };
    });
  }

  private async organizationUser(em: EntityManager, workspace: Workspace, userId: string): Promise<User> {
    const inOrganization = await em.findOne(OrganizationMembership, { organization: workspace.organization, user: userId }, { populate: ['user'] });
    if (!inOrganization) throw new ValidationFailed([{ field: 'body.user_id', message: "is not a member of the workspace's organization" }]);
    return inOrganization.user;
  }

  private async organizationTeam(em: EntityManager, workspace: Workspace, teamId: string): Promise<Team> {
    const team = await em.findOne(Team, { id: teamId, organization: workspace.organization });
    if (!team) throw new ValidationFailed([{ field: 'body.team_id', message: "is not a team of the workspace's organization" }]);
    return team;
  }

  private async membershipOf(em: EntityManager, workspace: Workspace, memberId: string): Promise<WorkspaceMembership> {
    const membership = await em.findOne(
      WorkspaceMembership,
      { workspace, $and: [live(), { $or: [{ user: memberId }, { team: memberId }] }] },
      { populate: ['user', 'team'] },
    );
    if (!membership) throw new NotFound('That user or team is not a member of this workspace');
    return membership;
  }
}

function holderOf(membership: WorkspaceMembership): { type: string; id: string } {
  return membership.team ? { type: 'team', id: membership.team.id } : { type: 'user', id: membership.user?.id ?? '' };
}
