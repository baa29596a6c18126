import { forgetModuleTuplesNaming } from '../authz/module-relationships.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { changedFields, userActor } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import type { PermissionName } from '../authz/permissions.ts';
import { teamParentTuple, teamTupleFilters } from '../authz/relationships.ts';
import { assignmentRevocations } from '../authz/role-relationships.ts';
import type { GraphChange, TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import type { Config } from '../config.ts';
import { ResourceGrant, Team, type Organization } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict } from '../errors.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';

export interface NewTeam {
  name: string;
  description?: string | null | undefined;
}

export interface TeamChanges {
  name?: string | undefined;
  description?: string | null | undefined;
}

/**
 * An organization's teams. Every member of the organization sees them (team:view); its owner and
 * admins create, rename and delete them (org:manage_teams), up to `limits.maxPerOrganization`.
 */
export class TeamService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;
  /** How many teams an organization may have, and how deep they may nest (TeamMemberService). */
  readonly limits: Config['teams'];

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, access: TenantAccess, limits: Config['teams']) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
    this.limits = limits;
  }

  async create(actorId: string, organizationId: string, input: NewTeam): Promise<Written<Team>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:manage_teams');
      // Counted under the organization's lock: concurrent creations cannot pass the bound together.
      if ((await em.count(Team, { organization: found })) >= this.limits.maxPerOrganization) {
        throw new Conflict(`An organization may have at most ${this.limits.maxPerOrganization} teams (TEAMS_MAX_PER_ORGANIZATION)`);
      }
      await this.assertNameFree(em, found, input.name);
      const team = new Team(found, input.name, input.description ?? null);
      em.persist(team);
      await em.flush();
      return {
        result: team,
        grantAfterCommit: [teamParentTuple(team)],
        audit: [
          {
            actor: userActor(actorId),
            action: 'team.created',
            target: { type: 'team', id: team.id },
            changes: { name: [null, team.name], description: [null, team.description] },
          },
        ],
      };
    });
  }

  async list(actorId: string, organizationId: string, page: PageRequest): Promise<Page<Team>> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    const teams = await this.orm.em.find(Team, { organization, ...afterKeyset(page.after) }, pageOptions(page));
    return toPage(teams, page.limit, (team) => team);
  }

  async get(actorId: string, teamId: string): Promise<Team> {
    return this.access.team(this.orm.em, actorId, teamId, 'team:view');
  }

  async update(actorId: string, teamId: string, changes: TeamChanges): Promise<Written<Team>> {
    return this.inTeam(actorId, teamId, 'org:manage_teams', async (em, team) => {
      if (changes.name !== undefined && changes.name !== team.name) await this.assertNameFree(em, team.organization, changes.name);
      const changed = changedFields({ name: team.name, description: team.description }, { ...changes });
      if (changes.name !== undefined) team.name = changes.name;
      if (changes.description !== undefined) team.description = changes.description;
      return {
        result: team,
        audit: Object.keys(changed).length
          ? [{ actor: userActor(actorId), action: 'team.updated', target: { type: 'team', id: team.id }, changes: changed }]
          : [],
      };
    });
  }

  /**
   * Deletes the team with its memberships, its place in other teams, its workspace roles and the
   * direct grants naming it; every tuple naming it is gone before the commit, and pending grants
   * naming it are dropped.
   */
  async delete(actorId: string, teamId: string): Promise<Written<void>> {
    return this.inTeam(actorId, teamId, 'org:manage_teams', async (em, team) => {
      await em.nativeDelete(ResourceGrant, { subjectType: 'team', subjectId: team.id });
      const moduleTuples = await forgetModuleTuplesNaming(em, [{ type: 'team', id: team.id }]);
      // Its custom roles' bindings too (their rows go by cascade), not only the tuples naming the team.
      const customRoles = await assignmentRevocations(em, { teamId: team.id });
      await em.nativeDelete(Team, { id: team.id });
      return {
        result: undefined,
        writeBeforeCommit: customRoles,
        supersede: { resources: [{ type: 'team', id: team.id }], subjects: [{ type: 'team', id: team.id }] },
        deleteBeforeCommit: [...teamTupleFilters(team.id), ...moduleTuples],
        audit: [{ actor: userActor(actorId), action: 'team.deleted', target: { type: 'team', id: team.id }, changes: { name: [team.name, null] } }],
      };
    });
  }

  /**
   * Runs a change to a team under its organization's lock (see TenantUnitOfWork), once the actor
   * holds `permission` on it. The team is read again under the lock: it may have gone meanwhile. A
   * team that does not exist is refused exactly as one the actor cannot see.
   */
  async inTeam<T>(
    actorId: string,
    teamId: string,
    permission: PermissionName,
    work: (em: EntityManager, team: Team) => Promise<GraphChange<T>>,
  ): Promise<Written<T>> {
    const located = await this.orm.em.fork().findOne(Team, { id: teamId }, { fields: ['organization'] });
    if (!located) throw refused(permission);
    return this.unitOfWork.inOrganization(located.organization.id, async (em, organization) => {
      const team = organization && (await em.findOne(Team, { id: teamId, organization }, { populate: ['organization'] }));
      return work(em, await this.access.requireOnTeam(team, actorId, permission));
    });
  }

  private async assertNameFree(em: EntityManager, organization: Organization, name: string): Promise<void> {
    if (await em.findOne(Team, { organization, name })) throw new Conflict('The organization already has a team with that name');
  }
}
