import type { EntityManager } from '@mikro-orm/postgresql';
import type { TenantAccess } from '../authz/access.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { PermissionName } from '../authz/permissions.ts';
import type { ZedToken } from '../authz/types.ts';
import { live, Organization, OrganizationMembership, WorkspaceMembership, type User } from '../db/entities/index.ts';
import { Forbidden, ValidationFailed } from '../errors.ts';
import { awaitsSecondFactor, type DenialReason } from './mfa-requirement.ts';
import type { OrganizationService } from './organization.service.ts';

export interface TenantContext {
  organizationId: string | null;
  workspaceId: string | null;
}

/** Why a context grants nothing: the organization requires a second factor the user has not enrolled. */
export type ContextReason = DenialReason;

/** A context, and the freshness at which to read the caller's permissions in it (its organization's ZedToken). */
export interface ResolvedContext {
  context: TenantContext;
  freshness: ZedToken | null;
  /** Set when the context grants the user nothing, and why. */
  reason?: ContextReason | undefined;
}

const NO_CONTEXT: TenantContext = { organizationId: null, workspaceId: null };

/**
 * Which organization and workspace a session's access tokens are for: where a sign-in lands,
 * what a refresh keeps, and where a switch goes. Every context is one the user can view.
 */
export class SessionContexts {
  private readonly authorizer: Authorizer;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;

  constructor(authorizer: Authorizer, access: TenantAccess, organizations: OrganizationService) {
    this.authorizer = authorizer;
    this.access = access;
    this.organizations = organizations;
  }

  /** The first organization the user joined, and the first workspace they joined in it (none if they joined none). */
  async atSignIn(em: EntityManager, user: User): Promise<ResolvedContext> {
    const membership = await em.findOne(
      OrganizationMembership,
      { user },
      { orderBy: { createdAt: 'asc', id: 'asc' }, populate: ['organization'] },
    );
    if (!membership) return { context: NO_CONTEXT, freshness: null };
    const workspaceMembership = await em.findOne(
      WorkspaceMembership,
      { user, workspace: { organization: membership.organization }, ...live() },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
    return {
      context: {
        organizationId: membership.organization.id,
        workspaceId: workspaceMembership?.workspace.id ?? null,
      },
      freshness: membership.organization.zedToken,
    };
  }

  /** A refresh keeps the session's context while the user can still view it, and lands as a sign-in does otherwise. */
  async kept(em: EntityManager, user: User, previous: TenantContext): Promise<ResolvedContext> {
    if (!previous.organizationId) return this.atSignIn(em, user);
    const organization = await em.findOne(Organization, { id: previous.organizationId });
    const freshness = organization?.zedToken ?? null;
    const required: PermissionName[] = previous.workspaceId ? ['org:view', 'workspace:view'] : ['org:view'];
    const held = organization
      ? await this.authorizer.granted(
          user.id,
          required,
          { organization: previous.organizationId, ...(previous.workspaceId && { workspace: previous.workspaceId }) },
          freshness,
        )
      : [];
    if (held.length === required.length) {
      return { context: { organizationId: previous.organizationId, workspaceId: previous.workspaceId }, freshness };
    }
    return this.atSignIn(em, user);
  }

  /**
   * The organization asked for (403 unless the user can view it), and the workspace asked for
   * (403 unless they can view it, 422 if it belongs elsewhere); with no workspace named, the
   * organization's default workspace when they can view it, as a sign-in lands in one, else none.
   * A member of an organization that requires a second factor they have not enrolled switches to
   * it with no workspace and a token that grants nothing there, told why.
   */
  async switchedTo(em: EntityManager, user: User, target: { organizationId: string; workspaceId: string | null }): Promise<ResolvedContext> {
    const organization = await this.access.organization(em, user.id, target.organizationId, 'org:view').catch(async (error: unknown) => {
      if (error instanceof Forbidden && (await awaitsSecondFactor(em, user.id, target.organizationId))) return null;
      throw error;
    });
    if (!organization) {
      return { context: { organizationId: target.organizationId, workspaceId: null }, freshness: null, reason: 'mfa_enrollment_required' };
    }
    const freshness = organization.zedToken;
    if (target.workspaceId) {
      // Seen at its own organization's freshness; only a workspace the caller may see can be
      // reported as belonging elsewhere (a hidden or missing one is the same 403).
      const workspace = await this.access.workspace(em, user.id, target.workspaceId, 'workspace:view');
      if (workspace.organization.id !== organization.id) {
        throw new ValidationFailed([{ field: 'body.workspace_id', message: 'is not a workspace of that organization' }]);
      }
      return { context: { organizationId: organization.id, workspaceId: workspace.id }, freshness };
    }
    const workspace = await this.organizations.defaultWorkspaceOf(em, organization);
    const viewable = workspace && (await this.authorizer.granted(user.id, ['workspace:view'], { workspace: workspace.id }, freshness)).length > 0;
    return { context: { organizationId: organization.id, workspaceId: viewable ? workspace.id : null }, freshness };
  }
}
