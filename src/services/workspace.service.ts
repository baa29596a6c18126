import { forgetModuleTuplesNaming } from '../authz/module-relationships.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { workspaceBindingFilters } from '../authz/role-relationships.ts';
import { changedFields, userActor } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { PermissionName } from '../authz/permissions.ts';
import type { GraphChange, TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import { sharedResourcesUnder, workspaceParentTuple, workspaceRoleTuple, workspaceTupleFilters } from '../authz/relationships.ts';
import {
  live,
  OrganizationMembership,
  Workspace,
  WorkspaceMembership,
  type WorkspaceRole,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict } from '../errors.ts';
import type { OrganizationService } from './organization.service.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';

export interface NewWorkspace {
  name: string;
  description?: string | null | undefined;
}

export interface WorkspaceChanges {
  name?: string | undefined;
  description?: string | null | undefined;
}

/** A workspace as one user sees it: with their workspace role (null for org owners and admins who hold none). */
export interface WorkspaceView {
  workspace: Workspace;
  role: WorkspaceRole | null;
}

export interface WorkspacePermissions {
  organizationId: string;
  workspaceId: string;
  permissions: PermissionName[];
}

export class WorkspaceService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly authorizer: Authorizer;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;

  constructor(
    orm: Orm,
    unitOfWork: TenantUnitOfWork,
    authorizer: Authorizer,
    access: TenantAccess,
    organizations: OrganizationService,
  ) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.authorizer = authorizer;
    this.access = access;
    this.organizations = organizations;
  }

  /** The creator becomes the workspace's admin; the plan's workspace limit applies. */
  async create(actorId: string, organizationId: string, input: NewWorkspace): Promise<Written<WorkspaceView>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:create_workspace');
      await this.organizations.assertRoomFor(em, found, 'workspaces');
      const creator = await em.findOneOrFail(OrganizationMembership, { organization: found, user: actorId });
      const workspace = new Workspace(found, input.name, input.description ?? null);
      const admin = new WorkspaceMembership(workspace, creator.user, 'admin');
      em.persist([workspace, admin]);
      await em.flush();
      return {
        result: { workspace, role: admin.role },
        grantAfterCommit: [workspaceParentTuple(workspace), workspaceRoleTuple(admin)],
        audit: [
          {
            actor: userActor(actorId),
            action: 'workspace.created',
            target: { type: 'workspace', id: workspace.id },
            changes: { name: [null, workspace.name], description: [null, workspace.description] },
          },
        ],
      };
    });
  }

  /** The organization's workspaces the caller can view (owners and admins: all), each confirmed by SpiceDB. */
  async list(actorId: string, organizationId: string, page: PageRequest): Promise<Page<WorkspaceView>> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    const workspaces = await this.orm.em.find(
      Workspace,
      { organization, ...afterKeyset(page.after) },
      pageOptions(page),
    );
    const listed = toPage(workspaces, page.limit, (workspace) => workspace);
    const viewable = await this.authorizer.allowedAmong(actorId, 'workspace:view', listed.items.map((workspace) => workspace.id));
    const visible = listed.items.filter((workspace) => viewable.has(workspace.id));
    const roles = await this.rolesOf(this.orm.em, actorId, visible);
    return { ...listed, items: visible.map((workspace) => ({ workspace, role: roles.get(workspace.id) ?? null })) };
  }

  async get(actorId: string, workspaceId: string): Promise<WorkspaceView> {
    const workspace = await this.access.workspace(this.orm.em, actorId, workspaceId, 'workspace:view');
    return { workspace, role: (await this.rolesOf(this.orm.em, actorId, [workspace])).get(workspace.id) ?? null };
  }

  async update(actorId: string, workspaceId: string, changes: WorkspaceChanges): Promise<Written<WorkspaceView>> {
    return this.inWorkspace(actorId, workspaceId, 'workspace:update', async (em, workspace) => {
      const changed = changedFields({ name: workspace.name, description: workspace.description }, { ...changes });
      if (changes.name !== undefined) workspace.name = changes.name;
      if (changes.description !== undefined) workspace.description = changes.description;
      return {
        result: { workspace, role: (await this.rolesOf(em, actorId, [workspace])).get(workspace.id) ?? null },
        audit: Object.keys(changed).length
          ? [{ actor: userActor(actorId), action: 'workspace.updated', target: { type: 'workspace', id: workspace.id }, changes: changed }]
          : [],
      };
    });
  }

  /** Removes its memberships and every tuple of it and of the resources under it; never the last one. */
  async delete(actorId: string, workspaceId: string): Promise<Written<void>> {
    return this.inWorkspace(actorId, workspaceId, 'workspace:delete', async (em, workspace) => {
      if ((await em.count(Workspace, { organization: workspace.organization })) <= 1) {
        throw new Conflict("An organization's last workspace cannot be deleted");
      }
      const shared = await sharedResourcesUnder(em, [workspace.id]);
      const moduleTuples = await forgetModuleTuplesNaming(em, [{ type: 'workspace', id: workspace.id }]);
      const bindings = await workspaceBindingFilters(em, workspace.id);
      await em.nativeDelete(Workspace, { id: workspace.id });
      return {
        result: undefined,
        supersede: { resources: [{ type: 'workspace', id: workspace.id }, ...shared] },
        deleteBeforeCommit: [
          ...workspaceTupleFilters(workspace.id),
          ...shared.map(({ type, id }) => ({ resourceType: type, resourceId: id })),
          ...moduleTuples,
          ...bindings,
        ],
        audit: [{ actor: userActor(actorId), action: 'workspace.deleted', target: { type: 'workspace', id: workspace.id }, changes: { name: [workspace.name, null] } }],
      };
    });
  }

  /** Every org:* and workspace:* registry name the caller holds there, from one bulk check. */
  async permissions(actorId: string, workspaceId: string): Promise<WorkspacePermissions> {
    const workspace = await this.access.workspace(this.orm.em, actorId, workspaceId, 'workspace:view');
    const organizationId = workspace.organization.id;
    const permissions = await this.authorizer.contextPermissions(
      actorId,
      { organizationId, workspaceId },
      workspace.organization.zedToken,
    );
    return { organizationId, workspaceId, permissions };
  }

  /**
   * Runs a change to a workspace under its organization's lock (see TenantUnitOfWork), once the
   * actor holds `permission` on it. The workspace is read again under the lock: it may have gone
   * meanwhile. A workspace that does not exist is refused exactly as one the actor cannot see.
   */
  async inWorkspace<T>(
    actorId: string,
    workspaceId: string,
    permission: PermissionName,
    work: (em: EntityManager, workspace: Workspace) => Promise<GraphChange<T>>,
  ): Promise<Written<T>> {
    const located = await this.orm.em.fork().findOne(Workspace, { id: workspaceId }, { fields: ['organization'] });
    if (!located) throw refused(permission);
    return this.unitOfWork.inOrganization(located.organization.id, async (em, organization) => {
      const workspace = organization && (await em.findOne(Workspace, { id: workspaceId, organization }, { populate: ['organization'] }));
      return work(em, await this.access.requireOnWorkspace(workspace, actorId, permission));
    });
  }

  private async rolesOf(em: EntityManager, userId: string, workspaces: Workspace[]): Promise<Map<string, WorkspaceRole>> {
    if (workspaces.length === 0) return new Map();
    const memberships = await em.find(WorkspaceMembership, { user: userId, workspace: { $in: workspaces.map((w) => w.id) }, ...live() });
    return new Map(memberships.map((membership) => [membership.workspace.id, membership.role]));
  }
}
