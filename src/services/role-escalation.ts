import type { Authorizer } from '../authz/authorizer.ts';
import type { PermissionName } from '../authz/permissions.ts';
import { CATALOGUE_NAMES, ROLE_CATALOGUE, type CatalogueName } from '../authz/role-catalogue.ts';
import type { Organization, Workspace } from '../db/entities/index.ts';
import { Forbidden } from '../errors.ts';

/**
 * No escalation through custom roles: nobody grants a permission they do not hold, and nobody
 * changes what a member who holds more than they do holds. Every answer is SpiceDB's (one bulk
 * CheckPermissions per person), never a comparison of role names, so a custom role that grants
 * org:manage_roles can hand out exactly what its holder holds.
 */
export class RoleEscalationGuard {
  private readonly authorizer: Authorizer;

  constructor(authorizer: Authorizer) {
    this.authorizer = authorizer;
  }

  /**
   * The actor holds every permission in `granted`: across the organization, or, for a role bound
   * in `workspace`, the workspace permissions there (a binding gives no organization permission).
   */
  async assertHoldsAll(actorId: string, organization: Organization, granted: readonly CatalogueName[], workspace: Workspace | null = null): Promise<void> {
    const needed = [...new Set(granted.flatMap((name) => requiredFor(name, workspace)))];
    const missing = await this.missing(actorId, needed, organization, workspace);
    if (missing.length > 0) {
      throw new Forbidden(`You do not hold ${missing.join(', ')}: nobody grants a permission they do not hold`);
    }
  }

  /**
   * Each of `holderIds` holds nothing grantable, across the organization, that the actor does not:
   * changing a role they hold (or taking it from them) is refused as granting it would be.
   */
  async assertOutranksAll(actorId: string, organization: Organization, holderIds: readonly string[]): Promise<void> {
    const grantable = [...new Set(CATALOGUE_NAMES.map((name) => ROLE_CATALOGUE[name].acrossOrganization))];
    const actorHolds = new Set(await this.held(actorId, grantable, organization, null));
    for (const holderId of new Set(holderIds)) {
      if (holderId === actorId) continue;
      const beyond = (await this.held(holderId, grantable, organization, null)).filter((name) => !actorHolds.has(name));
      if (beyond.length > 0) {
        throw new Forbidden(`A holder of this role holds ${beyond.join(', ')}, which you do not: nobody changes the roles of a member who holds more`);
      }
    }
  }

  private async missing(userId: string, needed: PermissionName[], organization: Organization, workspace: Workspace | null): Promise<PermissionName[]> {
    if (needed.length === 0) return [];
    const held = new Set(await this.held(userId, needed, organization, workspace));
    return needed.filter((name) => !held.has(name));
  }

  private async held(userId: string, names: PermissionName[], organization: Organization, workspace: Workspace | null): Promise<PermissionName[]> {
    return this.authorizer.granted(
      userId,
      names,
      { organization: organization.id, ...(workspace && { workspace: workspace.id }) },
      organization.zedToken,
    );
  }
}

function requiredFor(name: CatalogueName, workspace: Workspace | null): PermissionName[] {
  const { acrossOrganization, inWorkspace } = ROLE_CATALOGUE[name];
  if (!workspace) return [acrossOrganization];
  return inWorkspace ? [inWorkspace] : [];
}
