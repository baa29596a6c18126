import type { Team, TeamMembership, User } from '../../db/entities/index.ts';

export function presentTeam(team: Team) {
  return {
    id: team.id,
    organization_id: team.organization.id,
    name: team.name,
    description: team.description,
    created_at: team.createdAt.toISOString(),
    updated_at: team.updatedAt.toISOString(),
  };
}

/** A membership's holder, with what people recognise it by (loaded: user or team populated). */
export function presentMemberSubject(holder: { user: User | null; team: Team | null }) {
  if (holder.team) return { type: 'team' as const, id: holder.team.id, name: holder.team.name };
  return { type: 'user' as const, id: holder.user?.id ?? '', username: holder.user?.username ?? '', email: holder.user?.email ?? '' };
}

export function presentTeamMember(membership: TeamMembership) {
  return {
    id: membership.id,
    team_id: membership.team.id,
    subject: presentMemberSubject({ user: membership.user, team: membership.memberTeam }),
    created_at: membership.createdAt.toISOString(),
  };
}
