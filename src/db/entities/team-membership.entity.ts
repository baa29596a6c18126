import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Team } from './team.entity.ts';
import { User } from './user.entity.ts';

/**
 * The system of record for team:<team>#member@user:<user>, or, for a nested team,
 * team:<team>#member@team:<member team>#member: exactly one of `user` and `memberTeam` is set.
 */
export class TeamMembership {
  id: string = randomUUID();
  team: Team;
  user: User | null;
  memberTeam: Team | null;
  createdAt: Date = new Date();

  constructor(team: Team, member: { user: User } | { team: Team }) {
    this.team = team;
    this.user = 'user' in member ? member.user : null;
    this.memberTeam = 'team' in member ? member.team : null;
  }
}

export const TeamMembershipSchema = new EntitySchema<TeamMembership>({
  class: TeamMembership,
  tableName: 'team_memberships',
  uniques: [{ properties: ['team', 'user'] }, { properties: ['team', 'memberTeam'] }],
  checks: [{ name: 'team_memberships_one_subject', expression: '(user_id is null) <> (member_team_id is null)' }],
  properties: {
    id: { type: 'uuid', primary: true },
    team: { kind: 'm:1', entity: () => Team, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', nullable: true, index: true },
    memberTeam: { kind: 'm:1', entity: () => Team, deleteRule: 'cascade', nullable: true, index: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
