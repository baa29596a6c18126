import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Written } from '../authz/tenant-unit-of-work.ts';
import { roleChange, workspaceRoleTuple } from '../authz/relationships.ts';
import { OrganizationMembership, User, WorkspaceMembership, type Workspace, type WorkspaceRole } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound, ValidationFailed } from '../errors.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import type { WorkspaceService } from './workspace.service.ts';

/** Workspace memberships: only members of the workspace's organization can hold one. */
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

  async add(actorId: string, workspaceId: string, userId: string, role: WorkspaceRole): Promise<Written<WorkspaceMembership>> {
    return this.workspaces.inWorkspace(actorId, workspaceId, 'workspace:manage_members', async (em, workspace) => {
      const inOrganization = await em.findOne(OrganizationMembership, { organization: workspace.organization, user: userId });
      if (!inOrganization) {
        throw new ValidationFailed([{ field: 'body.user_id', message: "is not a member of the workspace's organization" }]);
      }
      if (await em.findOne(WorkspaceMembership, { workspace, user: userId })) {
        throw new Conflict('That user is already a member of this workspace');
      }
      const membership = new WorkspaceMembership(workspace, em.getReference(User, userId), role);
      em.persist(membership);
      await em.flush();
      return {
        result: membership,
        grantAfterCommit: [workspaceRoleTuple(membership)],
        audit: [
          {
            actor: userActor(actorId),
            action: 'workspace.member.added',
            target: { type: 'user', id: userId },
            changes: { workspace_id: [null, workspace.id], role: [null, role] },
          },
        ],
      };
    });
  }

  async list(actorId: string, workspaceId: string, page: PageRequest): Promise<Page<WorkspaceMembership>> {
    const workspace = await this.access.workspace(this.orm.em, actorId, workspaceId, 'workspace:view');
    const memberships = await this.orm.em.find(
      WorkspaceMembership,
      { workspace, ...afterKeyset(page.after) },
      { ...pageOptions(page), populate: ['user'] },
    );
    return toPage(memberships, page.limit, (membership) => membership);
  }

  /** DELETE old + TOUCH new in one SpiceDB write, before the commit. */
  async changeRole(actorId: string, workspaceId: string, userId: string, role: WorkspaceRole): Promise<Written<WorkspaceMembership>> {
    return this.workspaces.inWorkspace(actorId, workspaceId, 'workspace:manage_members', async (em, workspace) => {
      const membership = await this.membershipOf(em, workspace, userId);
      if (membership.role === role) return { result: membership };
      const before = workspaceRoleTuple(membership);
      const previousRole = membership.role;
      membership.role = role;
      return {
        result: membership,
        writeBeforeCommit: roleChange(before, workspaceRoleTuple(membership)),
        audit: [
          {
            actor: userActor(actorId),
            action: 'workspace.member.role_changed',
            target: { type: 'user', id: userId },
            changes: { workspace_id: [workspace.id, workspace.id], role: [previousRole, role] },
          },
        ],
      };
    });
  }

  /** Removes a member (workspace:manage_members), or lets a member leave; in force before returning. */
  async remove(actorId: string, workspaceId: string, userId: string): Promise<Written<void>> {
    const leaving = actorId === userId;
    const permission = leaving ? 'workspace:view' : 'workspace:manage_members';
    return this.workspaces.inWorkspace(actorId, workspaceId, permission, async (em, workspace) => {
      const membership = await this.membershipOf(em, workspace, userId);
      em.remove(membership);
      return {
        result: undefined,
        writeBeforeCommit: [{ operation: 'delete', relationship: workspaceRoleTuple(membership) }],
        audit: [
          {
            actor: userActor(actorId),
            action: leaving ? 'workspace.member.left' : 'workspace.member.removed',
            target: { type: 'user', id: userId },
            changes: { workspace_id: [workspace.id, null], role: [membership.role, null] },
          },
        ],
      };
    });
  }

  private async membershipOf(em: EntityManager, workspace: Workspace, userId: string): Promise<WorkspaceMembership> {
    const membership = await em.findOne(WorkspaceMembership, { workspace, user: userId }, { populate: ['user'] });
    if (!membership) throw new NotFound('That user is not a member of this workspace');
    return membership;
  }
}
