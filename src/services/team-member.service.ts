import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import { teamMemberTuple } from '../authz/relationships.ts';
import type { Written } from '../authz/tenant-unit-of-work.ts';
import { OrganizationMembership, Team, TeamMembership } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound, ValidationFailed } from '../errors.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import type { TeamService } from './team.service.ts';

/** Who joins a team: a member of its organization, or another team of the same organization. */
export type TeamMember = { userId: string } | { teamId: string };

/**
 * A team's members. Users must belong to the team's organization; a nested team must be of the
 * same organization, must not already contain this one (a cycle), and must not make a chain of
 * teams inside teams longer than the configured depth. All are decided in Postgres under the
 * organization's lock, so no concurrent change can slip between the check and the write.
 */
export class TeamMemberService {
  private readonly orm: Orm;
  private readonly access: TenantAccess;
  private readonly teams: TeamService;

  constructor(orm: Orm, access: TenantAccess, teams: TeamService) {
    this.orm = orm;
    this.access = access;
    this.teams = teams;
  }

  async add(actorId: string, teamId: string, member: TeamMember): Promise<Written<TeamMembership>> {
    return this.teams.inTeam(actorId, teamId, 'team:manage_members', async (em, team) => {
      const membership = 'userId' in member ? await this.newUserMember(em, team, member.userId) : await this.newTeamMember(em, team, member.teamId);
      em.persist(membership);
      await em.flush();
      const subject = membership.memberTeam ? { type: 'team', id: membership.memberTeam.id } : { type: 'user', id: membership.user?.id ?? '' };
      return {
        result: membership,
        grantAfterCommit: [teamMemberTuple(membership)],
        audit: [{ actor: userActor(actorId), action: 'team.member.added', target: subject, changes: { team_id: [null, team.id] } }],
      };
    });
  }

  async list(actorId: string, teamId: string, page: PageRequest): Promise<Page<TeamMembership>> {
    const team = await this.access.team(this.orm.em, actorId, teamId, 'team:view');
    const memberships = await this.orm.em.find(
      TeamMembership,
      { team, ...afterKeyset(page.after) },
      { ...pageOptions(page), populate: ['user', 'memberTeam'] },
    );
    return toPage(memberships, page.limit, (membership) => membership);
  }

  /** Removes a user or a nested team (team:manage_members), or lets a user leave; in force before returning. */
  async remove(actorId: string, teamId: string, memberId: string): Promise<Written<void>> {
    const leaving = actorId === memberId;
    return this.teams.inTeam(actorId, teamId, leaving ? 'team:view' : 'team:manage_members', async (em, team) => {
      const membership = await em.findOne(TeamMembership, { team, $or: [{ user: memberId }, { memberTeam: memberId }] });
      if (!membership) throw new NotFound('That user or team is not a member of this team');
      em.remove(membership);
      return {
        result: undefined,
        writeBeforeCommit: [{ operation: 'delete', relationship: teamMemberTuple(membership) }],
        audit: [
          {
            actor: userActor(actorId),
            action: leaving ? 'team.member.left' : 'team.member.removed',
            target: { type: membership.memberTeam ? 'team' : 'user', id: memberId },
            changes: { team_id: [team.id, null] },
          },
        ],
      };
    });
  }

  private async newUserMember(em: EntityManager, team: Team, userId: string): Promise<TeamMembership> {
    const inOrganization = await em.findOne(OrganizationMembership, { organization: team.organization, user: userId }, { populate: ['user'] });
    if (!inOrganization) throw new ValidationFailed([{ field: 'body.user_id', message: "is not a member of the team's organization" }]);
    if (await em.findOne(TeamMembership, { team, user: userId })) throw new Conflict('That user is already a member of this team');
    return new TeamMembership(team, { user: inOrganization.user });
  }

  private async newTeamMember(em: EntityManager, team: Team, memberTeamId: string): Promise<TeamMembership> {
    const memberTeam = await em.findOne(Team, { id: memberTeamId, organization: team.organization });
    if (!memberTeam) throw new ValidationFailed([{ field: 'body.team_id', message: 'is not a team of this organization' }]);
    if (await this.contains(em, memberTeam, team)) {
      throw new ValidationFailed([{ field: 'body.team_id', message: 'already contains this team: nesting it here would make a cycle' }]);
    }
    if (await em.findOne(TeamMembership, { team, memberTeam })) throw new Conflict('That team is already a member of this team');
    const { maxNestingDepth } = this.teams.limits;
    // The longest chain through the new link: the teams `team` is inside, itself, `memberTeam` and what it holds.
    const depth = (await this.chainLength(em, team, 'outwards', maxNestingDepth)) + (await this.chainLength(em, memberTeam, 'inwards', maxNestingDepth));
    if (depth > maxNestingDepth) {
      throw new ValidationFailed([
        { field: 'body.team_id', message: `would nest teams ${depth} deep; at most ${maxNestingDepth} are allowed (TEAMS_MAX_NESTING_DEPTH)` },
      ]);
    }
    return new TeamMembership(team, { team: memberTeam });
  }

  /**
   * The teams in the longest chain from `from` (counted) outwards through the teams that contain
   * it, or inwards through the teams it contains. Counting stops past `bound`: only whether a
   * chain is longer matters, and a graph left deeper by an older bound is then walked no further.
   */
  private async chainLength(em: EntityManager, from: Team, direction: 'outwards' | 'inwards', bound: number): Promise<number> {
    const [next, current] = direction === 'outwards' ? ['team_id', 'member_team_id'] : ['member_team_id', 'team_id'];
    const [row] = await em.execute<Array<{ length: number }>>(
      `with recursive chain(id, length) as (
         select ?::uuid, 1
         union
         select m.${next}, c.length + 1 from team_memberships m join chain c on m.${current} = c.id
          where m.member_team_id is not null and c.length <= ?
       )
       select max(length)::int as length from chain`,
      [from.id, bound],
    );
    return row?.length ?? 1;
  }

  /** Whether `inner` is `outer` itself or one of the teams nested in it, at any depth. */
  private async contains(em: EntityManager, outer: Team, inner: Team): Promise<boolean> {
    if (outer.id === inner.id) return true;
    const found = await em.execute<Array<{ id: string }>>(
      `with recursive nested(id) as (
         select member_team_id from team_memberships where team_id = ? and member_team_id is not null
         union
         select m.member_team_id from team_memberships m join nested n on m.team_id = n.id where m.member_team_id is not null
       )
       select id from nested where id = ? limit 1`,
      [outer.id, inner.id],
    );
    return found.length > 0;
  }
}
