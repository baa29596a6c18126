import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization, Team, Workspace } from '../db/entities/index.ts';
import { Forbidden } from '../errors.ts';
import type { Authorizer } from './authorizer.ts';
import { PERMISSIONS, type PermissionName } from './permissions.ts';

/**
 * The one rule for "may this caller see this id": load the organization, workspace or team, then ask
 * SpiceDB for the permission at the freshness of the newest write about its organization. A
 * missing row and a refusal raise the very same Forbidden (status, title, detail), so a stranger
 * cannot tell an existing id from an unknown one.
 */
export class TenantAccess {
  private readonly authorizer: Authorizer;

  constructor(authorizer: Authorizer) {
    this.authorizer = authorizer;
  }

  async organization(em: EntityManager, actorId: string, organizationId: string, permission: PermissionName): Promise<Organization> {
    return this.requireOnOrganization(await em.findOne(Organization, { id: organizationId }), actorId, permission);
  }

  /** For an organization already loaded (and locked) by a unit of work: null when it does not exist. */
  async requireOnOrganization(organization: Organization | null, actorId: string, permission: PermissionName): Promise<Organization> {
    if (!organization) throw refused(permission);
    await this.require(actorId, permission, organization.id, organization);
    return organization;
  }

  async workspace(em: EntityManager, actorId: string, workspaceId: string, permission: PermissionName): Promise<Workspace> {
    const workspace = await em.findOne(Workspace, { id: workspaceId }, { populate: ['organization'] });
    return this.requireOnWorkspace(workspace, actorId, permission);
  }

  /** For a workspace already loaded, with its organization populated: null when it does not exist. */
  async requireOnWorkspace(workspace: Workspace | null, actorId: string, permission: PermissionName): Promise<Workspace> {
    if (!workspace) throw refused(permission);
    await this.require(actorId, permission, workspace.id, workspace.organization);
    return workspace;
  }

  async team(em: EntityManager, actorId: string, teamId: string, permission: PermissionName): Promise<Team> {
    const team = await em.findOne(Team, { id: teamId }, { populate: ['organization'] });
    return this.requireOnTeam(team, actorId, permission);
  }

  /**
   * For a team already loaded, with its organization populated: null when it does not exist. An
   * org:* permission (org:manage_teams) is asked of the team's organization, a team:* one of the team.
   */
  async requireOnTeam(team: Team | null, actorId: string, permission: PermissionName): Promise<Team> {
    if (!team) throw refused(permission);
    const onOrganization = PERMISSIONS[permission].resourceType === 'organization';
    await this.require(actorId, permission, onOrganization ? team.organization.id : team.id, team.organization);
    return team;
  }

  /** Any object of the organization `owner` (a resource under one of its workspaces, say). */
  async require(actorId: string, permission: PermissionName, resourceId: string, owner: Organization): Promise<void> {
    if (!(await this.authorizer.can(actorId, permission, resourceId, owner.zedToken))) throw refused(permission);
  }
}

/** The one refusal: it names the permission, never whether the object exists. */
export function refused(permission: PermissionName): Forbidden {
  return new Forbidden(`You do not have ${permission} on this ${PERMISSIONS[permission].resourceType}`);
}
