import type { Team } from '../../db/entities/index.ts';

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
