import { PERMISSIONS, permissionsOn, type PermissionName } from './permissions.ts';
import type { SpiceDbClient } from './spicedb.client.ts';
import type { BulkCheckItemResult, Consistency, ZedToken } from './types.ts';

/**
 * Every permission decision of the service: a SpiceDB CheckPermission through the registry,
 * never a comparison of role strings. A failure to reach SpiceDB surfaces as Unavailable (503),
 * never as "allowed".
 */
export class Authorizer {
  private readonly spicedb: SpiceDbClient;

  constructor(spicedb: SpiceDbClient) {
    this.spicedb = spicedb;
  }

  async can(userId: string, permission: PermissionName, resourceId: string, freshness: ZedToken | null): Promise<boolean> {
    const { resourceType, permission: schemaPermission } = PERMISSIONS[permission];
    const result = await this.spicedb.checkPermission(
      {
        resource: { type: resourceType, id: resourceId },
        permission: schemaPermission,
        subject: { type: 'user', id: userId },
      },
      atOrganizationFreshness(freshness),
    );
    return result.allowed;
  }

  /**
   * Every org:* (and, with a workspace, workspace:*) registry name the user holds in a tenant
   * context, from one bulk check: what access tokens carry and the permissions endpoint reports.
   */
  async contextPermissions(
    userId: string,
    context: { organizationId: string; workspaceId: string | null },
    freshness: ZedToken | null,
  ): Promise<PermissionName[]> {
    return this.granted(
      userId,
      CONTEXT_PERMISSIONS,
      { organization: context.organizationId, ...(context.workspaceId && { workspace: context.workspaceId }) },
      freshness,
    );
  }

  /** The ids, among `resourceIds`, of the objects on which the user holds `permission`: one bulk call. */
  async allowedAmong(userId: string, permission: PermissionName, resourceIds: string[]): Promise<Set<string>> {
    const { resourceType, permission: schemaPermission } = PERMISSIONS[permission];
    const { results } = await this.spicedb.checkBulkPermissions(
      resourceIds.map((id) => ({
        resource: { type: resourceType, id },
        permission: schemaPermission,
        subject: { type: 'user', id: userId },
      })),
      // One call spans many objects, each with its own ZedToken: the floor covers them all.
      { kind: 'read_your_writes' },
    );
    return new Set(resourceIds.filter((_, index) => isAllowed(results[index])));
  }

  /**
   * Which of `permissions` the user holds, from one CheckBulkPermissions call. `resourceIds` gives
   * the object of each resource type involved (e.g. the organization and the workspace).
   */
  async granted(
    userId: string,
    permissions: readonly PermissionName[],
    resourceIds: Readonly<Record<string, string>>,
    freshness: ZedToken | null,
  ): Promise<PermissionName[]> {
    const asked = permissions.filter((name) => resourceIds[PERMISSIONS[name].resourceType] !== undefined);
    const { results } = await this.spicedb.checkBulkPermissions(
      asked.map((name) => ({
        resource: { type: PERMISSIONS[name].resourceType, id: resourceIds[PERMISSIONS[name].resourceType] ?? '' },
        permission: PERMISSIONS[name].permission,
        subject: { type: 'user', id: userId },
      })),
      atOrganizationFreshness(freshness),
    );
    return asked.filter((_, index) => isAllowed(results[index]));
  }
}

const CONTEXT_PERMISSIONS = [...permissionsOn('organization'), ...permissionsOn('workspace')];

/** An item that errored is not a yes: fail closed. */
function isAllowed(result: BulkCheckItemResult | undefined): boolean {
  return result !== undefined && 'allowed' in result && result.allowed;
}

/**
 * At least as fresh as the newest write about the organization, which its row carries to every
 * instance at once (no "new enemy"); with no token known, the read-your-writes floor.
 */
function atOrganizationFreshness(freshness: ZedToken | null): Consistency {
  return freshness ? { kind: 'at_least_as_fresh', zedToken: freshness } : { kind: 'read_your_writes' };
}
